"""fts_decoder: attachments decoded by a ``script`` service (Dovecot's decode2text protocol).

Our client (pydovecot/plugins/fts/decoder.py) and our script service
(pydovecot/master/script_service.py) are tested against each other, each against real Dovecot
2.3.19's other half when it is installed (real ``script`` serving our client; real
fts-parser-script, in ``doveadm index``, using our service), and end to end: an attachment's
decoded words are found by SEARCH. The decoder is tests/plugins/fts_rot13_decoder.sh (rot13,
so its words appear nowhere in the raw mail).
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import os
import pwd
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.log import Log
from pydovecot.master.registry import registration_for
from pydovecot.master.script_service import ScriptService, parse_executable, parse_header, tab_unescape
from pydovecot.master.services import ServiceSpec, read_master_settings
from pydovecot.plugins.fts.decoder import ScriptDecoder, socket_path
from pydovecot.plugins.fts.extract import extract
from pydovecot.storage.mail_user import create_mail_user
from tests.support import real_dovecot
from tests.support import server as our_server
from tests.support.net import wait_for

SCRIPT = Path(__file__).with_name("fts_rot13_decoder.sh")
HAVE_REAL = os.path.exists(real_dovecot.DOVECOT) and os.path.exists("/usr/lib/dovecot/script")


def rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def install_script(directory: Path) -> Path:
    """The decoder where the service's user (dovecot, when we are root) can run it."""
    target = directory / "decoder.sh"
    shutil.copy(SCRIPT, target)
    target.chmod(0o755)
    return target


class _ServedScript:
    """Our ScriptService on a unix socket, on its own event loop thread."""

    def __init__(self, path: Path, executable: str, log_file: Path) -> None:
        spec = ServiceSpec("decode2text", "", (), 1000, executable=executable, user="dovecot")
        log_conf = log_file.parent / "log.conf"
        log_conf.write_text(f"log_path = {log_file}\n")
        self.service = ScriptService(spec, Log.from_settings(load(str(log_conf)).lookup()))
        self.path = path
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            await asyncio.start_unix_server(lambda r, w: self.service.handle_connection(r, w, None),  # type: ignore[arg-type]
                                            str(self.path))
            os.chmod(self.path, 0o666)

        self.loop.run_until_complete(start())
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> _ServedScript:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def served(open_tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(socket path, log file) of our script service running the rot13 decoder."""
    script = install_script(open_tmp_path)
    sock, log_file = open_tmp_path / "decode2text", open_tmp_path / "script.log"
    with _ServedScript(sock, f"script {script}", log_file):
        yield sock, log_file


def raw_exchange(path: Path, payload: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


# --- the protocol, unit by unit ---------------------------------------------------------------


def test_header_parsing() -> None:
    args, env, alarm, noreply = parse_header(b"VERSION\tscript\t4\t0\nalarm=10\nenv_A=1\nenv_B=2\nnoreply\nx\1ty\nz",
                                             frozenset({"A"}))
    assert (args, env, alarm, noreply) == ([b"x\ty", b"z"], {"A": "1"}, 10, True)
    assert parse_header(b"VERSION\tscript\t4\t0\n-\napplication/pdf", frozenset()) == (
        [b"application/pdf"], {}, None, False)
    assert parse_header(b"VERSION\tscript\t4\t0", frozenset())[0] == []
    for bad in (b"VERSION\tscript\t3\t0\n-", b"VERSION\tlmtp\t4\t0\n-", b"VERSION\tscript\t4\t0\nalarm=x\n-"):
        with pytest.raises(Exception, match="compatible|alarm"):
            parse_header(bad, frozenset())
    assert tab_unescape(b"a\1nb\1\x31c\1rd") == b"a\nb\1c\rd"


def test_executable_parsing() -> None:
    assert parse_executable("script /usr/lib/dovecot/decode2text.sh") == (
        "/usr/lib/dovecot/decode2text.sh", (), frozenset())
    assert parse_executable("/usr/lib/dovecot/script -e HOME,USER quota-warning.sh a b") == (
        "/usr/lib/dovecot/quota-warning.sh", ("a", "b"), frozenset({"HOME", "USER"}))


def test_a_script_service_is_found_by_its_executable(open_tmp_path: Path) -> None:
    conf = open_tmp_path / "dovecot.conf"
    conf.write_text(f"protocols =\nbase_dir = {open_tmp_path}/run\nservice decode2text {{\n"
                    f"  executable = script {SCRIPT}\n  user = dovecot\n"
                    "  unix_listener decode2text {\n    mode = 0666\n  }\n}\n")
    service = read_master_settings(load(str(conf))).service("decode2text")
    assert service is not None and service.executable == f"script {SCRIPT}" and service.user == "dovecot"
    assert service.listeners[0].path == f"{open_tmp_path}/run/decode2text" and service.listeners[0].mode == 0o666
    import pydovecot.master.script_service  # noqa: F401 - registers "script"

    assert registration_for(service) is not None
    assert registration_for(ServiceSpec("other", "", (), 1, executable="/bin/true")) is None


# --- our client against our service --------------------------------------------------------------


def test_decoder_lists_and_decodes(served: tuple[Path, Path]) -> None:
    sock, _ = served
    decoder = ScriptDecoder(str(sock))
    assert decoder.content_types() == {"application/x-rot13": ("r13", "rot"), "application/x-broken": ("brk",)}
    assert decoder.supports("Application/X-ROT13", None) == "application/x-rot13"
    assert decoder.supports("application/octet-stream", "notes.ROT") == "application/x-rot13"
    assert decoder.supports("application/octet-stream", "notes.txt") is None
    assert decoder.supports("application/octet-stream", None) is None
    assert decoder.supports("image/png", "a.r13") is None
    assert decoder.decode("application/x-rot13", rot13("Quokka marzipan\n").encode()) == "Quokka marzipan\n"
    big = ("kumquat " * 200000).encode()  # larger than any socket buffer, both ways
    assert decoder.decode("application/x-rot13", rot13(big.decode()).encode()) == big.decode()


def test_service_reports_the_exit_status_without_noreply(served: tuple[Path, Path]) -> None:
    sock, log_file = served
    assert raw_exchange(sock, b"VERSION\tscript\t4\t0\n-\napplication/x-rot13\n\nuryyb") == b"hello+\n"
    assert raw_exchange(sock, b"VERSION\tscript\t4\t0\n-\napplication/x-broken\n\ndata") == b"-\n"
    # A client of another protocol gets nothing, and the service goes on serving.
    assert raw_exchange(sock, b"VERSION\tauth\t1\t0\n-\n\n") == b""
    assert raw_exchange(sock, b"VERSION\tscript\t4\t0\nnoreply\napplication/x-rot13\n\nnop") == b"abc"
    wait_for(lambda: "exit status 1" in log_file.read_text(), 10)
    log = log_file.read_text()
    assert "script: Error: Content-Type: application/x-broken not supported" in log
    assert "script: Error: Script terminated abnormally, exit status 1" in log
    assert "Client not compatible with this binary" in log


def test_decoder_failures_leave_the_part_out(open_tmp_path: Path, served: tuple[Path, Path]) -> None:
    sock, _ = served
    assert ScriptDecoder(str(open_tmp_path / "nowhere")).content_types() == {}
    assert ScriptDecoder(str(sock)).decode("application/x-broken", b"zzz") == ""
    assert ScriptDecoder(str(sock)).decode("two\nlines", b"zzz") is None  # never sent: would be two args


def test_a_stuck_decoder_times_out(open_tmp_path: Path) -> None:
    """A service that accepts and never answers costs the indexer a timeout, not its life."""
    path = open_tmp_path / "stuck"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()
        decoder = ScriptDecoder(str(path), timeout=0.3)
        assert decoder.decode("application/x-rot13", b"x" * 1_000_000) is None
        assert decoder.content_types() == {}


# --- indexing and SEARCH ------------------------------------------------------------------------


def attachment_mail(words: str, *, content_type: str = "application/x-rot13", filename: str = "notes.r13") -> bytes:
    encoded = base64.encodebytes(rot13(words).encode()).decode()
    return ("From: a@example.test\r\nTo: u@example.test\r\nSubject: with attachment\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n"
            "See the attachment.\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            "<html><body><p class=\"kiwifruit\">Grapefruit <b>salad</b></p></body></html>\r\n"
            f"--XX\r\nContent-Type: {content_type}\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}--XX--\r\n").encode()


def test_extract_sends_listed_parts_to_the_decoder(served: tuple[Path, Path]) -> None:
    decoder = ScriptDecoder(str(served[0]))
    assert "quokka zeppelin" in extract(attachment_mail("quokka zeppelin"), decoder).body
    by_name = extract(attachment_mail("quokka", content_type="application/octet-stream"), decoder).body
    assert "quokka" in by_name
    unnamed = extract(attachment_mail("quokka", content_type="application/octet-stream", filename="x.bin"), decoder)
    assert "quokka" not in unnamed.body
    plain = extract(attachment_mail("quokka zeppelin"))
    assert "quokka" not in plain.body and "Grapefruit" in plain.body and "kiwifruit" not in plain.body


CONF = """\
mail_location = maildir:{home}/Maildir
base_dir = {base_dir}
ssl = no
first_valid_uid = 0
mail_plugins = fts fts_lucene
plugin {{
  fts = lucene
  fts_decoder = {decoder}
}}
"""


def test_search_finds_decoded_attachment_words(open_tmp_path: Path, served: tuple[Path, Path]) -> None:
    sock, _ = served
    home = open_tmp_path / "home"
    home.mkdir()
    conf = open_tmp_path / "user.conf"
    # A relative fts_decoder names a socket in base_dir, as Dovecot resolves it.
    conf.write_text(CONF.format(home=home, base_dir=sock.parent, decoder=sock.name))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    box = user.open_mailbox("INBOX")
    first = box.append(attachment_mail("quokka zeppelin"))
    second = box.append(attachment_mail("marzipan", content_type="application/octet-stream"))
    box.append(b"From: b@example.test\r\nSubject: plain\r\n\r\nnothing attached\r\n")
    assert box.fts_lookup("BODY", "quokka") == {first}
    assert box.fts_lookup("TEXT", "marzipan") == {second}
    assert box.fts_lookup("BODY", "grapefruit salad") == {first, second}  # text/html indexed as its text
    assert box.fts_lookup("BODY", "kiwifruit") == set()  # ...without its markup


# --- our master runs the service ----------------------------------------------------------------


def test_our_master_serves_a_script_service(open_tmp_path: Path) -> None:
    script = install_script(open_tmp_path)
    whoami = open_tmp_path / "whoami.sh"
    whoami.write_text("#!/bin/sh\nid -un\n")
    whoami.chmod(0o755)
    base_dir, log = open_tmp_path / "run", open_tmp_path / "dovecot.log"
    conf = open_tmp_path / "dovecot.conf"
    conf.write_text(f"protocols =\nbase_dir = {base_dir}\nlog_path = {log}\nssl = no\n"
                    f"service decode2text {{\n  executable = script {script}\n  user = dovecot\n"
                    "  unix_listener decode2text {\n    mode = 0666\n  }\n}\n"
                    f"service whoami {{\n  executable = /usr/lib/dovecot/script {whoami}\n  user = dovecot\n"
                    "  unix_listener whoami {\n    mode = 0666\n  }\n}\n")
    proc = our_server.start(conf)
    try:
        our_server.wait_started(proc, log)
        decoder = ScriptDecoder(socket_path("decode2text", str(base_dir)))
        assert "application/x-rot13" in decoder.content_types()
        assert decoder.decode("application/x-rot13", b"Dhbxxn") == "Quokka"
        user = raw_exchange(base_dir / "whoami", b"VERSION\tscript\t4\t0\n-\n\n")
        expected = "dovecot" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        assert user == f"{expected}\n+\n".encode()  # as the service's user when we may switch
    finally:
        our_server.stop(proc)


# --- against real Dovecot -------------------------------------------------------------------------


REAL_CONF = """\
protocols =
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = 0
mail_plugins = fts fts_lucene
passdb {{
  driver = static
  args = nopassword
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/home
}}
plugin {{
  fts = lucene
  fts_decoder = {decoder}
}}
{services}
"""


@pytest.mark.skipif(not HAVE_REAL, reason="real Dovecot is not installed")
def test_real_script_service_serves_our_client(open_tmp_path: Path) -> None:
    script = install_script(open_tmp_path)
    conf = open_tmp_path / "real.conf"
    services = (f"service decode2text {{\n  executable = script {script}\n  user = dovecot\n"
                "  unix_listener decode2text {\n    mode = 0666\n  }\n}\n")
    conf.write_text(REAL_CONF.format(root=open_tmp_path, uid=real_dovecot.NOBODY, decoder="decode2text",
                                     services=services))
    sock = open_tmp_path / "run" / "decode2text"
    with real_dovecot.running(conf, ready=sock.exists):
        decoder = ScriptDecoder(str(sock))
        assert decoder.content_types() == {"application/x-rot13": ("r13", "rot"), "application/x-broken": ("brk",)}
        assert decoder.decode("application/x-rot13", rot13("Quokka zeppelin").encode()) == "Quokka zeppelin"


@pytest.mark.skipif(not HAVE_REAL, reason="real Dovecot is not installed")
@pytest.mark.parametrize("content_type", ["application/x-rot13", "application/octet-stream"])
def test_real_fts_parser_script_uses_our_service(open_tmp_path: Path, served: tuple[Path, Path],
                                                 content_type: str) -> None:
    """Real doveadm index sends the attachment to our service (by its content type, or by its
    filename's extension); real SEARCH then finds its words."""
    sock, _ = served
    root = open_tmp_path / "real"
    maildir = root / "home" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "1700000000.M1P1.test:2,S").write_bytes(attachment_mail("quokka zeppelin",
                                                                               content_type=content_type))
    (maildir / "cur" / "1700000001.M2P1.test:2,S").write_bytes(b"From: b@example.test\r\n\r\nplain\r\n")
    conf = root / "dovecot.conf"
    conf.write_text(REAL_CONF.format(root=root, uid=real_dovecot.NOBODY, decoder=sock, services=""))
    real_dovecot.chown_tree(root, real_dovecot.NOBODY)
    with real_dovecot.running(conf):
        subprocess.run(["/usr/bin/doveadm", "-c", str(conf), "index", "-u", "u", "INBOX"], check=True, timeout=60)
        found = subprocess.run(["/usr/bin/doveadm", "-c", str(conf), "search", "-u", "u", "mailbox", "INBOX",
                                "body", "quokka"], check=True, capture_output=True, text=True, timeout=60).stdout
    assert len(found.split("\n")) == 2 and found.split()[-1] == "1", found
