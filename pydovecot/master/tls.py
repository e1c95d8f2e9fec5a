"""TLS: an ``ssl.SSLContext`` built from the ssl_* settings, and STARTTLS on asyncio streams.

``ssl_cert``/``ssl_key``/``ssl_dh`` take Dovecot's ``<path`` form (read the file) or the PEM
text itself.  ``ssl_dh``: Python's ssl module can load DH parameters only from a file in
PEM form; when that fails we log a warning and go on without them, since OpenSSL then picks
its built-in groups (ECDHE and TLS 1.3 do not use them anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import tempfile
from collections.abc import Callable, Iterator

_PROTOCOLS = {
    "ANY": ssl.TLSVersion.MINIMUM_SUPPORTED,
    "SSLv3": ssl.TLSVersion.MINIMUM_SUPPORTED,
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
    "LATEST": ssl.TLSVersion.TLSv1_3,
}


class TLSConfigError(Exception):
    """A TLS setting that cannot be used (Dovecot refuses to start on these too)."""


@contextlib.contextmanager
def _as_file(value: str, setting: str) -> Iterator[str]:
    """A path for a ``<path`` value, or a private temporary file holding inline PEM text."""
    if value.startswith("<"):
        path = value[1:]
        if not os.path.exists(path):
            raise TLSConfigError(f"{setting}: Can't open file {path}: No such file or directory")
        yield path
        return
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as tmp:
        tmp.write(value)
        tmp.flush()
        yield tmp.name


def tls_context(settings: object, warn: Callable[[str], None] | None = None) -> ssl.SSLContext | None:
    """The server context for a settings node, or None when ``ssl = no``."""
    get = settings.get  # type: ignore[attr-defined]
    if str(get("ssl")) == "no":
        return None
    cert, key = str(get("ssl_cert")), str(get("ssl_key"))
    if not cert:
        raise TLSConfigError("ssl enabled, but ssl_cert not set")
    if not key:
        raise TLSConfigError("ssl enabled, but ssl_key not set")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    minimum = str(get("ssl_min_protocol"))
    if minimum not in _PROTOCOLS:
        raise TLSConfigError(f"Unknown ssl_min_protocol setting '{minimum}'")
    with contextlib.suppress(ValueError):  # an OpenSSL built without old versions
        ctx.minimum_version = _PROTOCOLS[minimum]
    ciphers = str(get("ssl_cipher_list"))
    if ciphers:
        try:
            ctx.set_ciphers(ciphers)
        except ssl.SSLError as e:
            raise TLSConfigError(f"Can't set cipher list to '{ciphers}': {e}") from None
    if bool(get("ssl_prefer_server_ciphers")):
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    password = str(get("ssl_key_password")) or None
    try:
        with _as_file(cert, "ssl_cert") as cert_path, _as_file(key, "ssl_key") as key_path:
            ctx.load_cert_chain(cert_path, key_path, password=password)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"Can't load SSL certificate or private key: {e}") from None
    _load_dh(ctx, str(get("ssl_dh")), warn)
    return ctx


def _load_dh(ctx: ssl.SSLContext, value: str, warn: Callable[[str], None] | None) -> None:
    if not value:
        return
    try:
        with _as_file(value, "ssl_dh") as path:
            ctx.load_dh_params(path)
    except (ssl.SSLError, OSError, TLSConfigError) as e:
        if warn is not None:
            warn(f"ssl_dh: DH parameters not usable, ignored ({e})")


async def start_tls(writer: asyncio.StreamWriter, ctx: ssl.SSLContext, *,
                    handshake_timeout: float | None = 30.0) -> None:
    """STARTTLS: upgrade a plain server-side stream in place (the reader keeps working)."""
    await writer.start_tls(ctx, ssl_handshake_timeout=handshake_timeout)
