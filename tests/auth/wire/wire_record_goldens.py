"""Record the auth wire goldens from a running real Dovecot 2.3.19 (not a test module).

    python tests/auth/wire/wire_record_goldens.py /tmp/authw/run

expects a Dovecot whose base_dir is the argument, with `auth_mechanisms = plain login cram-md5`,
`auth_failure_delay = 0` and the passwd-file users of `GOLDEN_USERS` below (see
tests/auth/wire/goldens/README.md for the whole configuration). Every scenario is one fresh
connection; each `send` step is followed by reading until the server is quiet (or closes).
Process ids, connection ids, cookies and CRAM-MD5 challenges are normalised, so the same
files serve as expectations for our own server.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

GOLDENS = Path(__file__).resolve().parent / "goldens"

# user -> (password, userdb fields as the passwd-file gives them)
GOLDEN_USERS = {
    "alice": "secret1",
    "bob": "secret1",  # stored as {CRAM-MD5}
}

HANDSHAKE = "VERSION\t1\t2\nCPID\t4242\n"
MASTER_HANDSHAKE = "VERSION\t1\t0\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain(user: str, password: str, authzid: str = "") -> str:
    return b64(f"{authzid}\0{user}\0{password}".encode())


Step = dict[str, Any]

# name -> (socket, steps). A step {"send": text} or {"cram": {...}}; the answers are recorded.
SCENARIOS: dict[str, tuple[str, list[Step]]] = {
    "client_handshake": ("auth-client", [{"send": HANDSHAKE}]),
    "client_plain_ok": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t1\tPLAIN\tservice=imap\tlip=127.0.0.1\trip=192.0.2.7\tresp={plain('alice', 'secret1')}\n"}]),
    "client_plain_no_ir": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t7\tPLAIN\tservice=smtp\n"},
        {"send": f"CONT\t7\t{plain('alice', 'secret1')}\n"}]),
    "client_plain_wrong_password": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t2\tPLAIN\tservice=imap\tresp={plain('alice', 'wrong')}\n"}]),
    "client_plain_unknown_user": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t3\tPLAIN\tservice=imap\tresp={plain('nosuch', 'secret1')}\n"}]),
    "client_plain_invalid_input": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t4\tPLAIN\tservice=imap\tresp={b64(b'justtext')}\n"}]),
    "client_plain_bad_base64": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t5\tPLAIN\tservice=imap\tresp=%%%%\n"}]),
    "client_plain_empty_resp": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t6\tPLAIN\tservice=imap\tresp=\n"}]),
    "client_login_ok": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tLOGIN\tservice=smtp\n"},
        {"send": f"CONT\t1\t{b64(b'alice')}\n"},
        {"send": f"CONT\t1\t{b64(b'secret1')}\n"}]),
    "client_login_fail": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tLOGIN\tservice=smtp\n"},
        {"send": f"CONT\t1\t{b64(b'alice')}\n"},
        {"send": f"CONT\t1\t{b64(b'nope')}\n"}]),
    "client_cram_ok": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tCRAM-MD5\tservice=imap\n"},
        {"cram": {"id": "1", "user": "bob", "password": "secret1"}}]),
    "client_cram_fail": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tCRAM-MD5\tservice=imap\n"},
        {"cram": {"id": "1", "user": "bob", "password": "wrong"}}]),
    "client_mech_lowercase": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t1\tplain\tservice=imap\tresp={plain('alice', 'secret1')}\n"}]),
    "client_unknown_mech": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tNTLM\tservice=imap\n"}]),
    "client_cont_unknown_id": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "CONT\t99\tYWJj\n"},
        {"send": f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('alice', 'secret1')}\n"}]),
    "client_cont_unexpected": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tLOGIN\tservice=imap\n"},
        {"send": f"CONT\t1\t{b64(b'alice')}\n" + f"CONT\t1\t{b64(b'secret1')}\n" + f"CONT\t1\t{b64(b'x')}\n"}]),
    "client_cont_bad_base64": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tLOGIN\tservice=imap\n"},
        {"send": "CONT\t1\t***\n"}]),
    "client_cont_broken": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "CONT\tabc\n"}]),
    "client_cancel": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tLOGIN\tservice=imap\n"},
        {"send": "CANCEL\t1\n"},
        {"send": f"CONT\t1\t{b64(b'alice')}\n"}]),
    "client_cancel_broken": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "CANCEL\tx\n"}]),
    "client_unknown_command": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "HELLO\tworld\n"}]),
    "client_garbage": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "\x00\xff garbage\n"}]),
    "client_auth_no_mech": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\n"}]),
    "client_auth_bad_id": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\tx\tPLAIN\tservice=imap\n"}]),
    "client_auth_no_service": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t1\tPLAIN\tresp={plain('alice', 'secret1')}\n"}]),
    "client_auth_after_resp": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t1\tPLAIN\tresp={plain('alice', 'secret1')}\tservice=imap\n"}]),
    "client_auth_duplicate_id": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tLOGIN\tservice=imap\n"},
        {"send": "AUTH\t1\tLOGIN\tservice=imap\n"}]),
    "client_auth_before_handshake": ("auth-client", [
        {"send": "VERSION\t1\t2\n"},
        {"send": f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('alice', 'secret1')}\n"}]),
    "client_no_version": ("auth-client", [{"send": "CPID\t1\n"}]),
    "client_wrong_major": ("auth-client", [{"send": "VERSION\t2\t0\nCPID\t1\n"}]),
    "client_cpid_zero": ("auth-client", [{"send": "VERSION\t1\t2\nCPID\t0\n"}]),
    "client_crlf": ("auth-client", [
        {"send": "VERSION\t1\t2\r\nCPID\t4242\r\n"},
        {"send": f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('alice', 'secret1')}\r\n"}]),
    "client_line_max_ok": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tPLAIN\tservice=imap\tx=" + "a" * (16383 - 28 - 11) + "\n"}]),
    "client_line_too_long": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": "AUTH\t1\tPLAIN\tservice=imap\tx=" + "a" * (16384 - 28 - 11) + "\n"}]),
    "client_username_chars": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('al ice', 'secret1')}\n"}]),
    "client_parallel": ("auth-client", [
        {"send": HANDSHAKE},
        {"send": f"AUTH\t1\tPLAIN\tservice=imap\tresp={plain('alice', 'secret1')}\n"
                 f"AUTH\t2\tLOGIN\tservice=imap\n"
                 f"AUTH\t3\tPLAIN\tservice=imap\tresp={plain('bob', 'secret1')}\n"}]),
    "master_handshake": ("auth-master", [{"send": MASTER_HANDSHAKE}]),
    "master_user_ok": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t1\talice\tservice=imap\n"}]),
    "master_user_uppercase": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t1\tBob\tservice=lmtp\n"}]),
    "master_user_notfound": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t2\tnosuch\tservice=imap\n"}]),
    "master_user_bad_chars": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t2\tno such\tservice=imap\n"}]),
    "master_user_no_service": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t3\talice\n"}]),
    "master_user_broken": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\tx\talice\tservice=imap\n"}]),
    "master_pass_ok": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "PASS\t1\talice\tservice=imap\n"}]),
    "master_pass_notfound": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "PASS\t1\tnosuch\tservice=imap\n"}]),
    "master_list": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "LIST\t1\n"}]),
    "master_list_mask": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "LIST\t5\tuser=b*\tservice=doveadm\n"}]),
    "master_list_broken": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "LIST\n"}]),
    "master_pipelined": ("auth-master", [
        {"send": MASTER_HANDSHAKE + "USER\t1\talice\tservice=imap\nLIST\t2\nUSER\t3\tbob\tservice=imap\n"}]),
    "master_unknown_command": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "FOO\t1\n"}]),
    "master_cpid": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "CPID\t1\n"}]),
    "master_cache_flush": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "CACHE-FLUSH\t7\n"}]),
    "master_request_unknown_client": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "REQUEST\t1\t4242\t1\t" + "00" * 16 + "\n"}]),
    "master_no_version": ("auth-master", [{"send": "USER\t1\talice\tservice=imap\n"}]),
    "master_wrong_major": ("auth-master", [{"send": "VERSION\t2\t0\nUSER\t1\talice\tservice=imap\n"}]),
    "master_line_max_ok": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t1\talice\tservice=imap\tx=" + "a" * (1023 - 28) + "\n"}]),
    "master_line_too_long": ("auth-master", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t1\talice\tservice=imap\tx=" + "a" * (1024 - 28) + "\n"}]),
    "userdb_user_ok": ("auth-userdb", [
        {"send": MASTER_HANDSHAKE},
        {"send": "USER\t1\talice\tservice=lmtp\n"}]),
    "userdb_request": ("auth-userdb", [
        {"send": MASTER_HANDSHAKE},
        {"send": "REQUEST\t1\t4242\t1\t" + "00" * 16 + "\n"}]),
}


def cram_response(challenge_b64: str, user: str, password: str) -> str:
    challenge = base64.b64decode(challenge_b64)
    digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
    return b64(f"{user} {digest}".encode())


def normalise(text: str) -> str:
    """Replace what differs between runs and servers by placeholders."""
    text = re.sub(r"^SPID\t\d+$", "SPID\t<SPID>", text, flags=re.M)
    text = re.sub(r"^CUID\t\d+$", "CUID\t<CUID>", text, flags=re.M)
    text = re.sub(r"^COOKIE\t[0-9a-f]{32}$", "COOKIE\t<COOKIE>", text, flags=re.M)
    # A CRAM-MD5 challenge: base64 of <digits.time@host>.
    def challenge(match: re.Match[str]) -> str:
        try:
            decoded = base64.b64decode(match.group(2)).decode()
        except Exception:  # noqa: BLE001 - not a challenge, leave it
            return match.group(0)
        if re.fullmatch(r"<\d+\.\d+@[^>]+>", decoded):
            return f"CONT\t{match.group(1)}\t<CRAM-CHALLENGE>"
        return match.group(0)
    return re.sub(r"^CONT\t(\d+)\t([A-Za-z0-9+/=]{20,})$", challenge, text, flags=re.M)


def no_penalty(text: str) -> str:
    """Ask for no auth penalty: real Dovecot's anvil would otherwise delay each AUTH after a
    failure by up to 15 seconds (our service has no penalty, and ignores the flag)."""
    return re.sub(r"^(AUTH\t[^\n]*?\tservice=[^\t\n]*)", r"\1\tno-penalty", text, flags=re.M)


def read_quiet(sock: socket.socket, quiet: float) -> tuple[bytes, bool]:
    """Everything the server sends until it has been quiet for `quiet` seconds, and whether it closed."""
    data = b""
    sock.settimeout(quiet)
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def run(base_dir: Path, name: str, socket_name: str, steps: list[Step]) -> dict[str, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(base_dir / socket_name))
    greeting, closed = read_quiet(sock, 0.3)
    transcript: list[dict[str, Any]] = [{"recv": normalise(greeting.decode("latin-1"))}]
    last_challenge = ""
    for step in steps:
        if closed:
            break
        if "cram" in step:
            spec = step["cram"]
            line = f"CONT\t{spec['id']}\t{cram_response(last_challenge, spec['user'], spec['password'])}\n"
            sock.sendall(line.encode())
            transcript.append({"cram": spec})
        else:
            try:
                sock.sendall(no_penalty(step["send"]).encode("latin-1"))
            except BrokenPipeError:
                closed = True
                break
            transcript.append({"send": no_penalty(step["send"])})
        # Failures are flushed by a 500 ms timer even with auth_failure_delay = 0.
        answer, closed = read_quiet(sock, 1.2)
        text = answer.decode("latin-1")
        match = re.search(r"^CONT\t\d+\t(\S+)$", text, flags=re.M)
        if match:
            last_challenge = match.group(1)
        transcript.append({"recv": normalise(text)})
    if not closed:
        _, closed = read_quiet(sock, 0.2)
    transcript.append({"closed": closed})
    sock.close()
    return {"socket": socket_name, "steps": transcript}


def main() -> None:
    base_dir = Path(sys.argv[1])
    only = set(sys.argv[2:])
    GOLDENS.mkdir(exist_ok=True)
    for name, (socket_name, steps) in SCENARIOS.items():
        if only and name not in only:
            continue
        result = run(base_dir, name, socket_name, steps)
        (GOLDENS / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(name, json.dumps(result["steps"])[:300])
        time.sleep(0.05)


if __name__ == "__main__":
    main()
