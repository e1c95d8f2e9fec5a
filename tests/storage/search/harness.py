"""Replay the recorded Dovecot session against our SEARCH/SORT/THREAD.

Messages come from the corpus Maildir read with our own maildir code: UIDs from dovecot-uidlist,
flags and keywords from file names, INTERNALDATE from the file mtime, RFC822.SIZE from the file
with CRLF line endings. MODSEQ and \\Recent are index state, taken from the recorded FETCH.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydovecot.imap.protocol.commands import Search, SearchAnd
from pydovecot.imap.protocol.lexer import Lexer
from pydovecot.imap.protocol.parser import parse_command, parse_search_criteria
from pydovecot.storage.maildir.filename import parse_filename
from pydovecot.storage.maildir.keywords import read_keywords
from pydovecot.storage.maildir.uidlist import read_uidlist
from pydovecot.storage.search import BadCharsetError, SearchContext, check_charset, search, uses_modseq
from pydovecot.storage.sort import sort_messages
from pydovecot.storage.thread import render_threads, thread_messages

GOLDENS = Path(__file__).parent / "goldens"
GOLDEN = GOLDENS / "session.json"
TZ_GOLDEN = GOLDENS / "session_tz.json"


@dataclass(frozen=True)
class CorpusMessage:
    seq: int
    uid: int
    flags: frozenset[str]
    keywords: frozenset[str]
    internaldate: int
    savedate: int | None
    size: int
    modseq: int
    path: Path

    def raw(self) -> bytes:
        return self.path.read_bytes()


def load_golden(path: Path = GOLDEN) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(path.read_text())
    return data


def _index_state(fetch: dict[str, object]) -> dict[int, tuple[int, bool]]:
    """uid -> (modseq, recent) from the recorded FETCH."""
    state: dict[int, tuple[int, bool]] = {}
    for line in fetch["untagged"]:  # type: ignore[attr-defined]
        match = re.search(r"UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)", line)
        if match:
            state[int(match.group(1))] = (int(match.group(3)), "\\Recent" in match.group(2))
    return state


def read_corpus(root: Path, fetch: dict[str, object]) -> list[CorpusMessage]:
    uidlist = read_uidlist(str(root))
    assert uidlist is not None
    keywords = read_keywords(str(root))
    state = _index_state(fetch)
    files = {}
    for sub in ("cur", "new"):
        for path in (root / sub).iterdir():
            files[parse_filename(path.name).base] = path
    messages = []
    for seq, record in enumerate(uidlist.records, start=1):
        path = files[record.base]
        info = parse_filename(path.name).flags
        modseq, recent = state.get(record.uid, (1, False))
        flags = set(info.system_flags) | ({"\\Recent"} if recent else set())
        names = keywords.keywords_for_letters(chr(ord("a") + i) for i in info.keyword_indexes)
        stat = path.stat()
        raw = path.read_bytes()
        messages.append(
            CorpusMessage(
                seq=seq,
                uid=record.uid,
                flags=frozenset(flags),
                keywords=frozenset(n for n in names if n),
                internaldate=int(stat.st_mtime),
                savedate=int(stat.st_ctime),
                size=len(re.sub(rb"\r?\n", b"\r\n", raw)),
                modseq=modseq,
                path=path,
            )
        )
    return messages


class Replayer:
    """Runs commands in order, keeping the SEARCHRES `$` state like one IMAP session."""

    def __init__(self, messages: list[CorpusMessage], tz: str = "UTC") -> None:
        self.messages = messages
        self.saved: frozenset[int] | None = None
        self.zone = ZoneInfo(tz)

    def _offset(self, epoch: int) -> int:
        """The replayed server's UTC offset at epoch (the oracle ran with TZ set)."""
        delta = datetime.fromtimestamp(epoch, self.zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    def context(self, charset: str | None) -> SearchContext:
        return SearchContext(
            messages_count=len(self.messages),
            max_uid=self.messages[-1].uid,
            saved_uids=self.saved,
            charset=charset,
            tz_offset=self._offset,
        )

    def run(self, command: str) -> tuple[list[str], str]:
        """Our (untagged SEARCH/SORT/THREAD lines, tagged status word + code)."""
        try:
            words = command.split(" ", 2)
            uid = words[0] == "UID"
            name = words[1] if uid else words[0]
            if name == "SEARCH":
                return self._search(command)
            rest = command.split(" ", 2 if uid else 1)[-1]
            if name == "SORT":
                return self._sort(rest, uid)
            return self._thread(rest, uid)
        except BadCharsetError:
            return [], "NO [BADCHARSET]"

    def _search(self, command: str) -> tuple[list[str], str]:
        parsed = parse_command(b"x " + command.encode("utf-8"))
        assert isinstance(parsed, Search)
        ctx = self.context(parsed.charset)
        found = search(parsed.criteria, self.messages, ctx, uid=parsed.uid)
        if parsed.return_options is not None and "SAVE" in parsed.return_options:
            uids = search(parsed.criteria, self.messages, ctx, uid=True)
            self.saved = frozenset(uids)
            return [], "OK"
        line = " ".join(["* SEARCH", *map(str, found)])
        if found and uses_modseq(parsed.criteria):
            line += f" (MODSEQ {max(m.modseq for m in self.messages if (m.uid if parsed.uid else m.seq) in found)})"
        return [line], "OK"

    def _criteria(self, text: str) -> tuple[str, SearchAnd]:
        charset, _, program = text.partition(" ")
        check_charset(charset)
        return charset, parse_search_criteria(Lexer(program.encode("utf-8")))

    def _sort(self, rest: str, uid: bool) -> tuple[list[str], str]:
        keys_text, _, tail = rest[1:].partition(") ")
        charset, criteria = self._criteria(tail)
        ctx = self.context(charset)
        chosen = self._chosen(criteria, ctx)
        ordered = sort_messages(chosen, keys_text.split())
        out = [m.uid if uid else m.seq for m in ordered]
        return [" ".join(["* SORT", *map(str, out)])], "OK"

    def _thread(self, rest: str, uid: bool) -> tuple[list[str], str]:
        algorithm, _, tail = rest.partition(" ")
        charset, criteria = self._criteria(tail)
        ctx = self.context(charset)
        chosen = self._chosen(criteria, ctx)
        threads = thread_messages(algorithm, chosen)
        rendered = render_threads(threads, (lambda m: m.uid) if uid else (lambda m: m.seq))
        return [f"* THREAD {rendered}".rstrip()], "OK"

    def _chosen(self, criteria: SearchAnd, ctx: SearchContext) -> list[CorpusMessage]:
        seqs = set(search(criteria, self.messages, ctx))
        return [m for m in self.messages if m.seq in seqs]


def expected(record: dict[str, object]) -> tuple[list[str], str]:
    lines = [
        line.rstrip()
        for line in record["untagged"]  # type: ignore[attr-defined]
        if line.startswith(("* SEARCH", "* SORT", "* THREAD"))
    ]
    tagged = str(record["tagged"])
    status = tagged.split(" ")[0]
    if "[BADCHARSET]" in tagged:
        status += " [BADCHARSET]"
    return lines, status
