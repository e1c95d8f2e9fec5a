#!/usr/bin/env bash
# Sets up pydovecot and runs it on examples/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e . --config-settings editable_mode=compat
bash examples/quickstart/prepare.sh
# The daemons are not there yet: show the configuration the server will run.
exec .venv/bin/python -m doveconf -c examples/quickstart/dovecot.conf -n
