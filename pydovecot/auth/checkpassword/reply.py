#!/usr/bin/env python3
"""checkpassword-reply: the program a checkpassword program execs on success.

Writes to fd 4, TAB-separated: ``user=$USER``, ``userdb_home=$HOME``, each variable named in
``$EXTRA`` as lowercased name=value, and userdb_uid/userdb_gid (our uid/gid) unless EXTRA gave
them. Exits 2 when AUTHORIZED=2 (a lookup), else 0. Standard library only: it runs under any
python3 on PATH, outside our virtualenv.
"""

import os
import sys


def main() -> int:
    out = []
    for env_name, key in (("USER", "user"), ("HOME", "userdb_home")):
        value = os.environ.get(env_name)
        if value is not None:
            if "\t" in value:
                sys.stderr.write(f"checkpassword: {env_name} contains TAB\n")
                return 1
            out.append(f"{key}={value}")
    seen = set()
    for name in os.environ.get("EXTRA", "").split(" "):
        value = os.environ.get(name) if name else None
        if value is not None:
            key = name.lower()
            seen.add(key)
            out.append(f"{key}={value}")
    if "userdb_uid" not in seen:
        out.append(f"userdb_uid={os.getuid()}")
    if "userdb_gid" not in seen:
        out.append(f"userdb_gid={os.getgid()}")
    data = "".join(item + "\t" for item in out).encode("utf-8", "surrogateescape")
    try:
        while data:
            data = data[os.write(4, data):]
    except OSError as exc:
        sys.stderr.write(f"checkpassword: write_full() failed: {exc}\n")
        return 111
    return 2 if os.environ.get("AUTHORIZED") == "2" else 0


if __name__ == "__main__":
    sys.exit(main())
