#!/usr/bin/env bash
# Prepares a fresh Debian machine (Python 3.11) for pydovecot: a virtualenv with the
# project and its test tools, and -- when we are root -- the reference Dovecot 2.3 that
# the parity tests compare against, plus the CentOS paths the seed tree names.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
# Byte-compile now: doveconf is a short-lived command and compiling on every start would
# dominate its run time.
env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m compileall -q pydovecot doveconf doveadm >/dev/null || true

if [ "$(id -u)" = 0 ]; then
    # Every package of the reference is checked: a machine may have some of them already.
    dovecot_packages="dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-mysql dovecot-sqlite dovecot-lucene"
    missing=""
    for pkg in $dovecot_packages; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        echo "setup: installing the reference Dovecot from Debian:$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq $missing >/dev/null
    fi
    command -v fetchmail >/dev/null || apt-get install -y -qq fetchmail >/dev/null  # POP3 client tests
    command -v mbsync >/dev/null || apt-get install -y -qq isync >/dev/null  # IMAP sync client tests
    # fail2ban-regex checks that our login log lines feed fail2ban's dovecot filter.
    if ! command -v fail2ban-regex >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fail2ban >/dev/null
    fi
    # Postfix for the smtpd_sasl_type = dovecot tests (each test runs a private instance).
    if ! command -v postfix >/dev/null; then
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
    fi
    # The seed's virtual users live under one system account, vmail (uid/gid 10000), as the
    # tutorial creates it; its static userdb and sockets name that account.
    if ! getent group vmail >/dev/null; then
        groupadd -g 10000 vmail 2>/dev/null || groupadd vmail
    fi
    if ! getent passwd vmail >/dev/null; then
        useradd -u 10000 -g vmail -d /srv/vmail -M -s /usr/sbin/nologin vmail 2>/dev/null \
            || useradd -g vmail -d /srv/vmail -M -s /usr/sbin/nologin vmail
    fi
    # The seed is a CentOS tree: its mail_plugin_dir and certificate paths.
    if [ -d /usr/lib/dovecot/modules ] && [ ! -e /usr/lib64/dovecot ]; then
        ln -s /usr/lib/dovecot/modules /usr/lib64/dovecot
    fi
    if [ ! -f /etc/pki/dovecot/private/dovecot.pem ]; then
        mkdir -p /etc/pki/dovecot/certs /etc/pki/dovecot/private
        openssl req -new -x509 -nodes -days 3650 -subj "/CN=localhost" \
            -newkey rsa:2048 -keyout /etc/pki/dovecot/private/dovecot.pem \
            -out /etc/pki/dovecot/certs/dovecot.pem 2>/dev/null
        chmod 600 /etc/pki/dovecot/private/dovecot.pem
    fi
    # MariaDB is the seed's SQL backend; start it if the machine has it but it is down.
    if command -v mariadbd >/dev/null && ! (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null; then
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
        for _ in $(seq 30); do (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null && break; sleep 1; done
    fi
fi
