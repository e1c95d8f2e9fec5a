"""SASL EXTERNAL with TLS client certificates through the whole server: ssl_ca +
ssl_verify_client_cert on the listeners, the login side passing valid-client-cert and
cert_username to auth, auth_ssl_username_from_cert naming the user from the certificate's
commonName, and auth_ssl_require_client_cert refusing every mechanism without one.

goldens/transcripts.json holds real Dovecot 2.3.19's transcripts of the same sessions
(record_goldens.py); the certificates are made afresh by each run."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support import server as our_server
from tests.support.net import wait_port

sys.path.insert(0, str(Path(__file__).parent))
from external_support import VARIANTS, client_context, exchanges, imap_session, write_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
GOLDENS = json.loads((Path(__file__).parent / "goldens" / "transcripts.json").read_text())
START_TIMEOUT = 30.0

_RUNS: dict[str, tuple[dict[str, list[str]], str, list[str]]] = {}


async def _stranger(tmp: Path, port: int) -> list[str]:
    """A certificate the CA did not sign: our handshake fails (Dovecot would go on without
    valid-client-cert: Python's ssl has no verify callback to accept it)."""
    ctx = client_context(tmp, None)
    from external_support import make_certificates  # a second CA: its client cert is a stranger

    other = tmp / "other"
    other.mkdir()
    make_certificates(other)
    ctx.load_cert_chain(other / "client.pem", other / "client.key")
    try:
        return await imap_session(port, ctx)
    except (ConnectionError, OSError) as exc:  # ssl.SSLError is an OSError
        return [f"handshake failed: {type(exc).__name__}"]


def run(variant: str) -> tuple[dict[str, list[str]], str, list[str]]:
    """Our server on the variant's config: the transcripts, its log, the stranger's session."""
    if variant not in _RUNS:
        tmp = Path(tempfile.mkdtemp(prefix="pdt-ext", dir="/tmp"))
        conf, ports = write_config(tmp, **VARIANTS[variant])
        proc = our_server.start(conf)
        try:
            for port in ports.values():
                wait_port(port, proc, timeout=START_TIMEOUT)

            async def talk() -> tuple[dict[str, list[str]], list[str]]:
                return await exchanges(tmp, ports), await _stranger(tmp, ports["imaps"])

            transcripts, stranger = asyncio.run(asyncio.wait_for(talk(), 60))
            assert proc.poll() is None
            _RUNS[variant] = (transcripts, (tmp / "dovecot.log").read_text(), stranger)
        finally:
            our_server.stop(proc, START_TIMEOUT)
            shutil.rmtree(tmp, ignore_errors=True)
    return _RUNS[variant]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_transcripts_match_real_dovecot(variant: str) -> None:
    ours, _log, _stranger_lines = run(variant)
    assert ours.keys() == GOLDENS[variant].keys()
    for scenario, golden in GOLDENS[variant].items():
        assert ours[scenario] == golden, f"{variant}/{scenario}"


def test_external_logs_in_the_certificate_user() -> None:
    ours, log, _ = run("require_cert")
    assert ours["imaps_cert"][4] == "C: b AUTHENTICATE EXTERNAL ="
    assert ours["imaps_cert"][-4] == "S: b OK Logged in"
    assert "imap-login: Info: Login: user=<alice@example.test>, method=EXTERNAL" in log
    assert "pop3-login: Info: Login: user=<alice@example.test>, method=EXTERNAL" in log


def test_require_client_cert_refuses_every_mechanism_without_one() -> None:
    ours, _log, _ = run("require_cert")
    refusal = "NO [ALERT] Client didn't present valid SSL certificate"
    assert f"S: b {refusal}" in ours["imaps_no_cert"]
    assert f"S: b {refusal}" in ours["imaps_no_cert_plain"]  # PLAIN too
    assert f"S: b {refusal}" in ours["imap_plaintext"]
    assert "S: -ERR [AUTH] Client didn't present valid SSL certificate" in ours["pop3s_no_cert"]


def test_auth_external_is_advertised_with_and_without_tls() -> None:
    ours, _log, _ = run("optional_cert")
    for scenario in ("imaps_cert", "imaps_no_cert", "imap_plaintext"):
        assert ours[scenario][0].startswith("S: * OK [CAPABILITY ")
        assert " AUTH=EXTERNAL]" in ours[scenario][0]
    assert "S: SASL PLAIN EXTERNAL" in ours["pop3s_cert"]


def test_certificate_from_another_ca_fails_the_handshake() -> None:
    _ours, _log, stranger = run("optional_cert")
    assert len(stranger) == 1 and stranger[0].startswith("handshake failed")


def test_login_log_names_the_missing_certificate() -> None:
    """As real Dovecot's log for the same sessions (record_goldens.py prints it)."""
    _ours, log, _ = run("require_cert")
    disconnects = [line.split(": Info: ", 1)[1].split(", session=")[0] for line in log.splitlines()
                   if "-login: Info: Disconnected: Aborted login" in line]
    assert disconnects == [
        "Disconnected: Aborted login by logging out (client didn't send a cert): user=<>, method=EXTERNAL, "
        "rip=127.0.0.1, lip=127.0.0.1, TLS",
        "Disconnected: Aborted login by logging out (client didn't send a cert): user=<>, method=PLAIN, "
        "rip=127.0.0.1, lip=127.0.0.1, TLS",
        "Disconnected: Aborted login by logging out (cert required, client didn't start TLS): user=<>, "
        "method=EXTERNAL, rip=127.0.0.1, lip=127.0.0.1, secured",
        "Disconnected: Aborted login by logging out (client didn't send a cert): user=<>, method=EXTERNAL, "
        "rip=127.0.0.1, lip=127.0.0.1, TLS",
    ]
