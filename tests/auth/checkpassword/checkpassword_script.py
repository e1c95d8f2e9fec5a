#!/usr/bin/python3
"""A checkpassword program for the tests (copied next to the config; real Dovecot runs it too).

Reads ``user NUL password NUL timestamp NUL`` from fd 3 and, by user name:
jane/jane-pw and alice/alice-pw log in (fields via EXTRA, then exec the reply program given as
argv[1]); temp exits 111; usage exits 2; silent exits 0 without reply input; killed dies with
SIGKILL; anything else is unknown (3 for lookups, 1 for logins). With AUTHORIZED=1 (userdb or
credentials lookup) the password is not checked and AUTHORIZED=2 is handed to the reply program.
Each call's environment is written to envs/env-<user>.json next to this file.
"""

import json
import os
import signal
import sys

USERS = {"jane": "jane-pw", "alice": "alice-pw", "renamed": "renamed-pw"}


def read_input() -> list[bytes]:
    data = b""
    while chunk := os.read(3, 512):
        data += chunk
    return data.split(b"\0")


def main() -> None:
    user_b, password_b, timestamp = read_input()[:3]
    user, password = user_b.decode(), password_b.decode()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "envs", f"env-{user}.json"), "w") as out:
        json.dump({"env": dict(os.environ), "timestamp": timestamp.decode(), "argv": sys.argv[1:]}, out)
    lookup = os.environ.get("AUTHORIZED") == "1"
    if user == "temp":
        sys.exit(111)
    if user == "usage":
        sys.exit(2)
    if user == "silent":
        sys.exit(0)
    if user == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if user not in USERS:
        sys.exit(3 if lookup else 1)
    if not lookup and password != USERS[user]:
        sys.exit(1)
    uid = "1000" if user == "jane" else "1001"
    os.environ.update({"USER": "jane" if user == "renamed" else user, "HOME": f"/home/{user}",
                       "userdb_uid": uid, "userdb_gid": uid, "userdb_mail": "maildir:~/Mail",
                       "nopassword": "y",
                       "EXTRA": "userdb_uid userdb_gid userdb_mail nopassword"})
    if lookup:
        os.environ["AUTHORIZED"] = "2"
    os.execv(sys.argv[1], sys.argv[1:])


main()
