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


# Contexts built so far, by their settings. The master builds one while still root; services
# that build theirs later, after it dropped root to mail_uid, cannot read a root-only key file
# any more (the seed's /etc/pki/dovecot/private/dovecot.pem) and reuse the one built from the
# same settings instead. A readable file is always read again (reload picks up new certs).
_BUILT: dict[tuple[str, ...], ssl.SSLContext] = {}


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
    verify_ca = str(get("ssl_ca") or "") if bool(get("ssl_verify_client_cert")) else ""
    built_key = (cert, key, password or "", minimum, ciphers, str(bool(get("ssl_prefer_server_ciphers"))),
                 str(get("ssl_dh")), verify_ca, str(bool(get("ssl_require_crl"))))
    try:
        with _as_file(cert, "ssl_cert") as cert_path, _as_file(key, "ssl_key") as key_path:
            ctx.load_cert_chain(cert_path, key_path, password=password)
    except PermissionError as e:
        if built_key in _BUILT:
            return _BUILT[built_key]
        raise TLSConfigError(f"Can't load SSL certificate or private key: {e}") from None
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"Can't load SSL certificate or private key: {e}") from None
    _load_dh(ctx, str(get("ssl_dh")), warn)
    if bool(get("ssl_verify_client_cert")):
        _verify_clients(ctx, verify_ca, crl=bool(get("ssl_require_crl")))
    _BUILT[built_key] = ctx
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


def _verify_clients(ctx: ssl.SSLContext, ca: str, *, crl: bool) -> None:
    """ssl_verify_client_cert: ask for a client certificate and check it against ssl_ca.

    Dovecot's verify callback accepts a bad certificate and only marks it invalid (no
    valid-client-cert for auth); Python's ssl has no such callback, so with CERT_OPTIONAL a
    certificate that does not verify fails the handshake instead. No certificate is fine."""
    ctx.verify_mode = ssl.CERT_OPTIONAL
    if not ca:
        return  # Dovecot starts too; no client certificate can verify then
    try:
        with _as_file(ca, "ssl_ca") as ca_path:
            ctx.load_verify_locations(ca_path)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"Can't load CA certificates from ssl_ca: {e}") from None
    if crl:
        if not ctx.cert_store_stats()["crl"]:
            # ssl_require_crl without a CRL in ssl_ca: no certificate can verify. Dovecot still
            # takes the connection (auth gets no valid-client-cert); not asking for one gives
            # the client the same, where CERT_OPTIONAL would fail every handshake with one.
            ctx.verify_mode = ssl.CERT_NONE
            return
        # ssl_require_crl: the CRLs ride in ssl_ca, as in Dovecot
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN


# OpenSSL's short names, which ssl_cert_username_field accepts as well (OBJ_txt2nid), by the
# long names Python's getpeercert() reports.
_LONG_NAMES = {"CN": "commonName", "C": "countryName", "L": "localityName", "ST": "stateOrProvinceName",
               "O": "organizationName", "OU": "organizationalUnitName", "UID": "userId",
               "DC": "domainComponent", "GN": "givenName", "SN": "surname"}


def client_cert_username(ssl_object: ssl.SSLObject | ssl.SSLSocket | None, field: str) -> str | None:
    """The login side's cert_username: the ``ssl_cert_username_field`` of a verified client
    certificate's subject (the first one), "" when it has none (or a NUL in it); None without a
    verified certificate. ``getpeercert()`` is non-empty only for a verified one."""
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    if not cert:
        return None
    name = _LONG_NAMES.get(field, field or "commonName")
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == name:
                return "" if "\0" in value else str(value)
    return ""


def client_cert_disconnect_reason(ssl_object: ssl.SSLObject | ssl.SSLSocket | None, *, required: bool,
                                  auth_attempts: int) -> str | None:
    """Login's disconnect reason under auth_ssl_require_client_cert, None when it has none
    (the client sent an invalid cert cannot happen here: such a handshake fails)."""
    if not required:
        return None
    if ssl_object is not None:
        return None if ssl_object.getpeercert() else "client didn't send a cert"
    return "cert required, client didn't start TLS" if auth_attempts else None


async def start_tls(writer: asyncio.StreamWriter, ctx: ssl.SSLContext, *,
                    handshake_timeout: float | None = 30.0) -> None:
    """STARTTLS: upgrade a plain server-side stream in place (the reader keeps working)."""
    await writer.start_tls(ctx, ssl_handshake_timeout=handshake_timeout)


class TLSSelector:
    """Server contexts per connection, as Dovecot picks its certificate: the settings of
    ``tree.lookup(service=..., local=<our address>)`` when the connection comes in, then those
    of ``local_name <SNI name>`` once the ClientHello names a host (``sni_callback`` switches
    the handshake to that name's context).  Contexts are built once per distinct settings."""

    def __init__(self, tree: object, service: str | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.tree = tree
        self.service = service
        self.warn = warn
        scopes = getattr(tree, "scopes", ())
        self._names = any(s.filter.local_name is not None for s in scopes)
        self._by_local: dict[str | None, ssl.SSLContext | None] = {}
        self._by_cert: dict[tuple[str, str], ssl.SSLContext] = {}

    def context(self, local_ip: str | None = None) -> ssl.SSLContext | None:
        """The context for a connection to ``local_ip`` (None: unknown or any address).
        Raises TLSConfigError like ``tls_context``."""
        if local_ip in self._by_local:
            return self._by_local[local_ip]
        node = self.tree.lookup(service=self.service, local=local_ip)  # type: ignore[attr-defined]
        ctx = tls_context(node, warn=self.warn)
        if ctx is not None and self._names:
            ctx.sni_callback = self._sni(local_ip, _cert_key(node))
        self._by_local[local_ip] = ctx
        return ctx

    def preload(self, local_ip: str | None = None) -> None:
        """Build now (while still root: keys are often root-only) the contexts of every
        literal ``local_name`` the configuration names."""
        ctx = self.context(local_ip)
        if ctx is None or not self._names:
            return
        base = _cert_key(self.tree.lookup(service=self.service, local=local_ip))  # type: ignore[attr-defined]
        for scope in getattr(self.tree, "scopes", ()):
            name = scope.filter.local_name
            if name is not None and "*" not in name:
                self._named(local_ip, name, base)

    def _sni(self, local_ip: str | None, base: tuple[str, str]) -> Callable[..., None]:
        def callback(ssl_object: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
            if server_name is None:
                return
            named = self._named(local_ip, server_name, base)
            if named is not None:
                ssl_object.context = named
        return callback

    def _named(self, local_ip: str | None, name: str, base: tuple[str, str]) -> ssl.SSLContext | None:
        try:
            node = self.tree.lookup(service=self.service, local=local_ip,  # type: ignore[attr-defined]
                                    local_name=name.lower().rstrip("."))
        except Exception as e:  # noqa: BLE001 - a filter conflict: keep the connection's certificate
            if self.warn is not None:
                self.warn(f"local_name {name}: {e}")
            return None
        wanted = _cert_key(node)
        if wanted == base or str(node.get("ssl")) == "no":
            return None
        if wanted not in self._by_cert:
            try:
                ctx = tls_context(node, warn=self.warn)
            except TLSConfigError as e:
                if self.warn is not None:
                    self.warn(f"local_name {name}: {e}")
                return None
            if ctx is None:
                return None
            self._by_cert[wanted] = ctx
        return self._by_cert[wanted]


def _cert_key(node: object) -> tuple[str, str]:
    get = node.get  # type: ignore[attr-defined]
    return str(get("ssl_cert")), str(get("ssl_key"))


def selected_tls_context(tree: object, service: str | None = None,
                         warn: Callable[[str], None] | None = None) -> ssl.SSLContext | None:
    """``tls_context`` for a service's settings, switching certificates by SNI (local_name)."""
    return TLSSelector(tree, service, warn).context()
