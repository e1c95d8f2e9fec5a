#!/usr/bin/env bash
# Sets up pydovecot and runs it on examples/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e . --config-settings editable_mode=compat
bash examples/quickstart/prepare.sh
echo "pydovecot: IMAP 127.0.0.1:10143, POP3 :10110, LMTP :10024; users alice@example.test and"
echo "bob@example.test, password quickstart; log in /tmp/pydovecot-quickstart/dovecot.log; Ctrl-C stops it."
exec .venv/bin/python -m pydovecot -F -c examples/quickstart/dovecot.conf
