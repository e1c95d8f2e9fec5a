"""TLS settings of servers and of outgoing connections.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings._modules import SSL
from pydovecot.settings.model import Kind, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ssl",
        Kind.ENUM,
        "yes",
        "Whether TLS is offered (yes), required for plaintext auth (required) or off (no).",
        values=("yes", "no", "required"),
        modules=("master", "ssl", "ssl-server"),
    ),
    Setting(
        "ssl_alt_cert",
        Kind.STR,
        "",
        "Second server certificate, e.g. ECDSA beside RSA.",
        modules=("ssl-server",),
    ),
    Setting(
        "ssl_alt_key",
        Kind.STR,
        "",
        "Private key of ssl_alt_cert.",
        modules=("ssl-server",),
        secret=True,
    ),
    Setting("ssl_ca", Kind.STR, "", "CA certificates used to verify client certificates.", modules=SSL),
    Setting("ssl_cert", Kind.STR, "", "Server certificate, usually given as <file.", modules=("ssl-server",)),
    Setting(
        "ssl_cert_username_field",
        Kind.STR,
        "commonName",
        "Certificate field the username is taken from.",
        modules=SSL,
    ),
    Setting(
        "ssl_cipher_list",
        Kind.STR,
        "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH",
        "TLS 1.2 and older cipher list.",
        modules=SSL,
    ),
    Setting("ssl_cipher_suites", Kind.STR, "", "TLS 1.3 cipher suites.", modules=SSL),
    Setting(
        "ssl_client_ca_dir",
        Kind.STR,
        "",
        "Directory of CA certificates used to verify servers Dovecot connects to.",
        modules=("auth", "ssl", "ssl-server"),
    ),
    Setting(
        "ssl_client_ca_file",
        Kind.STR,
        "",
        "File of CA certificates used to verify servers Dovecot connects to.",
        modules=("auth", "ssl", "ssl-server"),
    ),
    Setting(
        "ssl_client_cert",
        Kind.STR,
        "",
        "Client certificate presented when Dovecot connects to servers.",
        modules=SSL,
    ),
    Setting("ssl_client_key", Kind.STR, "", "Private key of ssl_client_cert.", modules=SSL, secret=True),
    Setting(
        "ssl_client_require_valid_cert",
        Kind.BOOL,
        "yes",
        "Refuse servers whose certificate does not verify.",
        modules=SSL,
    ),
    Setting("ssl_crypto_device", Kind.STR, "", "OpenSSL engine to use for crypto.", modules=SSL),
    Setting("ssl_curve_list", Kind.STR, "", "Elliptic curves offered, colon-separated.", modules=SSL),
    Setting(
        "ssl_dh",
        Kind.STR,
        "",
        "Diffie-Hellman parameters, usually given as <file.",
        modules=("ssl-server",),
        secret=True,
    ),
    Setting(
        "ssl_key",
        Kind.STR,
        "",
        "Private key of ssl_cert, usually given as <file.",
        modules=("ssl-server",),
        secret=True,
    ),
    Setting(
        "ssl_key_password",
        Kind.STR,
        "",
        "Password of the private key files.",
        modules=("ssl-server",),
        secret=True,
    ),
    Setting("ssl_min_protocol", Kind.STR, "TLSv1.2", "Oldest TLS version accepted.", modules=SSL),
    Setting("ssl_options", Kind.STR, "", "Extra OpenSSL options (compression, no_ticket).", modules=SSL),
    Setting(
        "ssl_prefer_server_ciphers",
        Kind.BOOL,
        "no",
        "Choose the cipher by the server's preference, not the client's.",
        modules=SSL,
    ),
    Setting(
        "ssl_require_crl",
        Kind.BOOL,
        "yes",
        "Require a CRL for each CA when verifying client certificates.",
        modules=SSL,
    ),
    Setting("ssl_verify_client_cert", Kind.BOOL, "no", "Ask clients for a certificate.", modules=SSL),
    Setting("verbose_ssl", Kind.BOOL, "no", "Log TLS protocol-level errors.", modules=SSL),
)
