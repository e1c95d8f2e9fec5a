#!/usr/bin/env python3
"""Asks the real doveconf which top-level settings belong to the auth process's settings
(Dovecot refuses those inside local/remote filters) and writes the answer as data:
pydovecot/settings/auth_root.py.  Needs the reference Dovecot installed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pydovecot.settings as registry  # noqa: E402
from pydovecot.settings.model import Kind  # noqa: E402


def main() -> None:
    names = []
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "probe.conf"
        for setting in registry.ROOT.settings:
            if setting.kind in (Kind.LIST, Kind.STRLIST):
                continue
            value = setting.default.replace('"', '\\"')
            conf.write_text(f'local 127.0.0.1 {{\n  {setting.name} = "{value}"\n}}\n')
            result = subprocess.run(["/usr/bin/doveconf", "-c", str(conf), "-n"], capture_output=True, text=True)
            if "Auth settings not supported" in result.stderr:
                names.append(setting.name)
    body = "".join(f'    "{name}",\n' for name in sorted(names))
    (ROOT / "pydovecot" / "settings" / "auth_root.py").write_text(
        '"""Top-level settings read by the auth process.  Dovecot refuses them inside local/remote\n'
        'filters.  Recorded from real doveconf by scripts/record-auth-root.py."""\n\n'
        "from __future__ import annotations\n\n"
        f"AUTH_SETTINGS: frozenset[str] = frozenset((\n{body}))\n"
    )
    print(len(names), "auth settings")


if __name__ == "__main__":
    main()
