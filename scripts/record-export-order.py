#!/usr/bin/env python3
"""Records the order in which real doveconf exports settings (``doveconf -S``: Dovecot's
internal definition order, which is not alphabetical) into
pydovecot/settings/export_order.py.  Needs the reference Dovecot installed."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One instance of every section type, so each type's key order shows up.
PROBE = r"""
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \Sent
  }
}
passdb {
  driver = static
}
userdb {
  driver = static
}
plugin {
  x = y
}
dict {
  x = file:/tmp/x
}
metric m {
  filter = event=x
}
event_exporter e {
  format = json
  format_args = time-rfc3339
  transport = log
}
service extra {
  executable = x
  inet_listener i {
    port = 1
  }
  unix_listener u {
  }
  fifo_listener f {
  }
}
"""


def _hidden_settings() -> str:
    """Settings doveconf only exports once set: set each to its default."""
    import sys

    sys.path.insert(0, str(ROOT))
    import pydovecot.settings as registry

    return "".join(f'{s.name} = "{s.default}"\n' for s in registry.ROOT.settings if s.hidden)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "probe.conf"
        conf.write_text(PROBE + _hidden_settings())
        out = subprocess.run(["/usr/bin/doveconf", "-c", str(conf), "-S"], capture_output=True, text=True,
                             check=True).stdout
    top: list[str] = []
    sections: dict[str, list[str]] = {}
    services: list[str] = []
    listeners: dict[str, list[str]] = {}
    for line in out.splitlines():
        key = line.split("=", 1)[0]
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "service" and parts[2].endswith("_listener") and parts[1] != "extra":
            listeners[f"{parts[1]}/{parts[2]}"] = line.split("=", 1)[1].split()
        if len(parts) == 1:
            if key not in top:
                top.append(key)
            if key == "service":
                services = line.split("=", 1)[1].split()
            continue
        # parent LIST name then instance then key: take the innermost (type, key) pair
        section = parts[-3] if len(parts) >= 3 else parts[0]
        if len(parts) == 2:  # strlist entry
            continue
        order = sections.setdefault(section, [])
        if parts[-1] not in order:
            order.append(parts[-1])
    body = ["\"\"\"Dovecot's export order of settings (what ``doveconf -S`` follows), recorded from",
            "real doveconf 2.3.19 by scripts/record-export-order.py.  Not alphabetical: it is the",
            "order of Dovecot's internal setting tables.\"\"\"", "", "from __future__ import annotations", "",
            f"TOP_LEVEL: tuple[str, ...] = {tuple(top)!r}", "",
            f"BUILTIN_SERVICES: tuple[str, ...] = {tuple(s for s in services if s != 'extra')!r}", "",
            "# The built-in services' listeners, as Dovecot lists them (escaped names).",
            "BUILTIN_LISTENERS: dict[str, tuple[str, ...]] = {"]
    for name, keys in listeners.items():
        body.append(f"    {name!r}: {tuple(keys)!r},")
    body += ["}", "", "SECTIONS: dict[str, tuple[str, ...]] = {"]
    for name, keys in sections.items():
        body.append(f"    {name!r}: {tuple(keys)!r},")
    body.append("}")
    text = "\n".join(body) + "\n"
    (ROOT / "pydovecot" / "settings" / "export_order.py").write_text(text)
    print(len(top), "top-level keys,", len(sections), "section types")


if __name__ == "__main__":
    main()
