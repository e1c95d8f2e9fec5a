"""The pieces of client-certificate auth one by one: the login side's AUTH parameters, the
certificate name it passes, the TLS context that asks for certificates, and auth's refusal."""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from external_support import make_certificates  # noqa: E402

from pydovecot.auth.backend import service_settings  # noqa: E402
from pydovecot.login.auth_client import AuthParams, temp_failure_text  # noqa: E402
from pydovecot.master.tls import client_cert_disconnect_reason, client_cert_username, tls_context  # noqa: E402


class _Peer:
    def __init__(self, cert: dict[str, Any]) -> None:
        self.cert = cert

    def getpeercert(self) -> dict[str, Any]:
        return self.cert


SUBJECT = {"subject": ((("organizationName", "Example"),), (("commonName", "alice@example.test"),),
                       (("commonName", "second"),), (("emailAddress", "a@example.test"),))}


class _Settings:
    def __init__(self, **values: object) -> None:
        self.values = {"ssl": "yes", "ssl_min_protocol": "TLSv1.2", "ssl_cipher_list": "",
                       "ssl_prefer_server_ciphers": False, "ssl_key_password": "", "ssl_dh": "",
                       "ssl_ca": "", "ssl_verify_client_cert": False, "ssl_require_crl": True}
        self.values.update(values)

    def get(self, name: str) -> object:
        return self.values.get(name, "")


def test_auth_params_carry_the_certificate_as_dovecot_login_does() -> None:
    params = AuthParams(service="imap", secured=True, valid_client_cert=True, cert_username="a\tb")
    assert params.wire().split("\t")[-2:] == ["valid-client-cert", "cert_username=a\x01tb"]  # Dovecot's tab escape
    assert "valid-client-cert" not in AuthParams(service="imap").wire()
    assert "cert_username" not in AuthParams(service="imap").wire()


def test_certificate_username_field() -> None:
    assert client_cert_username(None, "commonName") is None  # no TLS
    assert client_cert_username(_Peer({}), "commonName") is None  # TLS, no verified certificate
    assert client_cert_username(_Peer(SUBJECT), "commonName") == "alice@example.test"  # the first
    assert client_cert_username(_Peer(SUBJECT), "CN") == "alice@example.test"  # OpenSSL short name
    assert client_cert_username(_Peer(SUBJECT), "emailAddress") == "a@example.test"
    assert client_cert_username(_Peer(SUBJECT), "UID") == ""  # verified, but no such field
    nul = {"subject": ((("commonName", "alice\0bob"),),)}
    assert client_cert_username(_Peer(nul), "commonName") == ""  # a NUL: never a username


def test_disconnect_reason_under_require_client_cert() -> None:
    assert client_cert_disconnect_reason(None, required=False, auth_attempts=1) is None
    assert client_cert_disconnect_reason(_Peer({}), required=True, auth_attempts=0) == "client didn't send a cert"
    assert client_cert_disconnect_reason(_Peer(SUBJECT), required=True, auth_attempts=1) is None
    assert client_cert_disconnect_reason(None, required=True, auth_attempts=0) is None
    assert client_cert_disconnect_reason(None, required=True, auth_attempts=2) == \
        "cert required, client didn't start TLS"


def test_tls_context_asks_for_client_certificates_only_when_told(tmp_path: Path) -> None:
    make_certificates(tmp_path)
    files = {"ssl_cert": f"<{tmp_path}/server.pem", "ssl_key": f"<{tmp_path}/server.key"}
    plain = tls_context(_Settings(**files))
    assert plain is not None and plain.verify_mode == ssl.CERT_NONE
    verify = tls_context(_Settings(**files, ssl_ca=f"<{tmp_path}/ca.pem", ssl_verify_client_cert=True,
                                   ssl_require_crl=False))
    assert verify is not None and verify.verify_mode == ssl.CERT_OPTIONAL
    assert verify.get_ca_certs()[0]["subject"] == ((("commonName", "pydovecot test CA"),),)
    assert not verify.verify_flags & ssl.VERIFY_CRL_CHECK_CHAIN
    # ssl_require_crl (the default) with no CRL: no certificate could verify, none is asked for
    no_crl = tls_context(_Settings(**files, ssl_ca=f"<{tmp_path}/ca.pem", ssl_verify_client_cert=True))
    assert no_crl is not None and no_crl.verify_mode == ssl.CERT_NONE
    _append_crl(tmp_path)
    crl = tls_context(_Settings(**files, ssl_ca=f"<{tmp_path}/ca.pem", ssl_verify_client_cert=True))
    assert crl is not None and crl.verify_mode == ssl.CERT_OPTIONAL
    assert crl.verify_flags & ssl.VERIFY_CRL_CHECK_CHAIN


def _append_crl(directory: Path) -> None:
    """An empty CRL signed by a throwaway key, appended to ca.pem (only its presence matters)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    crl = (x509.CertificateRevocationListBuilder()
           .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pydovecot test CA")]))
           .last_update(now).next_update(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    with (directory / "ca.pem").open("ab") as out:
        out.write(crl.public_bytes(serialization.Encoding.PEM))


def test_temp_failure_text_names_host_and_time() -> None:
    text = temp_failure_text()
    assert text.startswith("Temporary authentication failure. [") and text.endswith("]")


async def _auth_answers(require: bool, from_cert: bool) -> list[str]:
    """Raw auth-client protocol against the in-process service (passwd-file with nopassword)."""
    import tempfile

    from pydovecot.auth.backend import service_from_settings
    from pydovecot.config import load

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "users").write_text("alice@example.test:::::::nopassword\n")
        conf = Path(tmp) / "dovecot.conf"
        conf.write_text(f"auth_mechanisms = plain external\nauth_failure_delay = 0\n"
                        f"auth_ssl_require_client_cert = {'yes' if require else 'no'}\n"
                        f"auth_ssl_username_from_cert = {'yes' if from_cert else 'no'}\n"
                        f"passdb {{\n  driver = passwd-file\n  args = {tmp}/users\n}}\n")
        node = load(str(conf)).lookup(service="auth")
        assert service_settings(node).ssl_require_client_cert is require
        from pydovecot.login.auth_client import AuthClient

        client = await AuthClient.in_process(service_from_settings(node))
        try:
            answers = []
            for params in (AuthParams(service="imap", secured=True),
                           AuthParams(service="imap", secured=True, valid_client_cert=True,
                                      cert_username="alice@example.test")):
                reply = await asyncio.wait_for(client.begin("EXTERNAL", params, b""), 10)
                answers.append(f"{reply.kind} {sorted(reply.fields.items())}")
            return answers
        finally:
            await client.close()


def test_auth_service_require_and_username_from_cert() -> None:
    refused = "FAIL [('reason', \"Client didn't present valid SSL certificate\")]"
    ok = "OK [('user', 'alice@example.test')]"
    assert asyncio.run(_auth_answers(True, True)) == [refused, ok]
    # Without username_from_cert the certificate's name is ignored: EXTERNAL knows no user.
    assert asyncio.run(_auth_answers(False, False))[1].startswith("FAIL")
    assert asyncio.run(_auth_answers(False, True))[1] == ok
