"""scripts/mkcert.sh: Dovecot's self-signed certificate recipe (the seed tutorial's
/etc/pki/dovecot/{certs,private}/dovecot.pem), read back with cryptography."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "mkcert.sh"
TEMPLATE = ROOT / "scripts" / "dovecot-openssl.cnf"

# Debian's 2.3 template: placeholders its postinst fills in, and a RANDFILE OpenSSL 3 cannot write.
DEBIAN_TEMPLATE = """\
RANDFILE                = /dev/urandom

[ req ]
default_bits            = 2048
default_keyfile         = privkey.pem
distinguished_name      = req_distinguished_name
prompt                  = no
policy                  = policy_anything
req_extensions          = v3_req
x509_extensions         = v3_req

[ req_distinguished_name ]
organizationName = Dovecot mail server
organizationalUnitName = @commonName@
commonName = @commonName@
emailAddress = @emailAddress@

[ v3_req ]
basicConstraints        = CA:FALSE
"""

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def mkcert(ssldir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SSLDIR": str(ssldir), **env})


@pytest.fixture
def ssldir(tmp_path: Path) -> Path:
    (tmp_path / "certs").mkdir()
    (tmp_path / "private").mkdir()
    return tmp_path


def load(ssldir: Path) -> tuple[x509.Certificate, object]:
    cert = x509.load_pem_x509_certificate((ssldir / "certs" / "dovecot.pem").read_bytes())
    key = serialization.load_pem_private_key((ssldir / "private" / "dovecot.pem").read_bytes(), None)
    return cert, key


def attr(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    return str(cert.subject.get_attributes_for_oid(oid)[0].value)


def test_files_modes_and_subject_from_the_template(ssldir: Path) -> None:
    (ssldir / "dovecot-openssl.cnf").write_text(TEMPLATE.read_text().replace("imap.example.com", "mx.test"))
    result = mkcert(ssldir)
    assert result.returncode == 0, result.stderr
    for name in ("certs/dovecot.pem", "private/dovecot.pem"):
        assert stat.S_IMODE(os.stat(ssldir / name).st_mode) == 0o600, name
    cert, key = load(ssldir)
    assert attr(cert, NameOID.COMMON_NAME) == "mx.test"
    assert attr(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) == "IMAP server"
    assert attr(cert, NameOID.EMAIL_ADDRESS) == "postmaster@example.com"
    assert cert.issuer == cert.subject  # self-signed
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[attr-defined]
    assert key.key_size == 2048  # type: ignore[attr-defined]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 365
    # Dovecot's closing lines: an empty line, the subject and the fingerprint
    lines = result.stdout.splitlines()
    assert lines[0] == "" and lines[1].startswith("subject=") and "CN = mx.test" in lines[1]
    assert lines[2].startswith("SHA1 Fingerprint=")


def test_refuses_to_overwrite(ssldir: Path) -> None:
    assert mkcert(ssldir, OPENSSLCONFIG=str(TEMPLATE)).returncode == 0
    before = (ssldir / "certs" / "dovecot.pem").read_bytes()
    again = mkcert(ssldir, OPENSSLCONFIG=str(TEMPLATE))
    assert (again.returncode, again.stdout) == (1, f"{ssldir}/certs/dovecot.pem already exists, won't overwrite\n")
    assert (ssldir / "certs" / "dovecot.pem").read_bytes() == before
    (ssldir / "certs" / "dovecot.pem").unlink()
    key_only = mkcert(ssldir, OPENSSLCONFIG=str(TEMPLATE))
    assert key_only.stdout == f"{ssldir}/private/dovecot.pem already exists, won't overwrite\n"


def test_missing_directory(tmp_path: Path) -> None:
    result = mkcert(tmp_path, OPENSSLCONFIG=str(TEMPLATE))
    assert (result.returncode, result.stdout) == (1, f"{tmp_path}/certs directory doesn't exist\n")


def test_debian_template_placeholders(ssldir: Path) -> None:
    template = ssldir / "debian.cnf"
    template.write_text(DEBIAN_TEMPLATE)
    result = mkcert(ssldir, OPENSSLCONFIG=str(template), HOSTNAME_FQDN="mail.example.org")
    assert result.returncode == 0, result.stderr
    cert, _ = load(ssldir)
    assert attr(cert, NameOID.COMMON_NAME) == "mail.example.org"
    assert attr(cert, NameOID.EMAIL_ADDRESS) == "root@mail.example.org"
    assert attr(cert, NameOID.ORGANIZATION_NAME) == "Dovecot mail server"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    assert template.read_text() == DEBIAN_TEMPLATE  # the template itself is left alone


def test_our_master_serves_the_certificate(ssldir: Path) -> None:
    """What mkcert writes is what ssl_cert/ssl_key load (pydovecot.master.tls)."""
    from pydovecot.config import load as load_config
    from pydovecot.master.tls import tls_context

    assert mkcert(ssldir, OPENSSLCONFIG=str(TEMPLATE)).returncode == 0
    conf = ssldir / "dovecot.conf"
    conf.write_text(f"ssl = yes\nssl_cert = <{ssldir}/certs/dovecot.pem\nssl_key = <{ssldir}/private/dovecot.pem\n")
    assert tls_context(load_config(str(conf)).lookup()) is not None
