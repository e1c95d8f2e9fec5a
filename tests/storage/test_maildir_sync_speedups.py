"""The fast paths of a full Maildir sync give exactly what the careful paths give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydovecot.storage.interface import MessageInfo
from pydovecot.storage.maildir import uidlist as uidlist_module
from pydovecot.storage.maildir.filename import sorted_for_uid_order, uid_order_key
from pydovecot.storage.maildir.frozen import build
from pydovecot.storage.maildir.sync import SyncedMessage, sync_mailbox
from pydovecot.storage.maildir.uidlist import UidlistCorruptError, UidlistRecord, parse_uidlist

HEADER = "3 V1700000000 N5 G0123456789abcdef0123456789abcdef\n"

_token = st.sampled_from(["S12", "W14", "Gabc", "P1", "x9", "S", "O3", "Zz:z", ""])
_name = st.sampled_from(["1.M1P1.h,S=3", "2.M2P1.h", "x:2,S", "a/b", "dup", "", "n\r", "Z"])
_line = st.tuples(st.integers(0, 12), st.lists(_token, max_size=3), _name,
                  st.sampled_from([" ", "  ", "\t"]), st.sampled_from([":", ""]))


def _render(uid: int, tokens: list[str], name: str, sep: str, colon: str) -> str:
    return f"{uid}{sep}{' '.join(t for t in tokens if t)}{' ' if any(tokens) else ''}{colon}{name}"


def _parse_carefully(data: bytes, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(uidlist_module, "_fast_records", lambda *args: None)
        return _outcome(data)


def _outcome(data: bytes) -> object:
    try:
        return parse_uidlist(data)
    except UidlistCorruptError as exc:
        return ("corrupt", exc.line, exc.reason)


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(_line, max_size=8), tail=st.sampled_from(["", "9 :partial", "\n"]))
def test_fast_uidlist_parse_equals_the_careful_one(lines: list[tuple[int, list[str], str, str, str]],
                                                   tail: str) -> None:
    body = "".join(_render(*line) + "\n" for line in lines)
    data = (HEADER + body + tail).encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _outcome(data) == _parse_carefully(data, monkeypatch)


def test_a_dovecot_written_uidlist_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (HEADER + "".join(f"{uid} :{uid}.M1P1.host,S=10,W=12\n" for uid in range(1, 1000))
            + "1000 S10 W12 :x\n").encode()
    calls = []
    monkeypatch.setattr(uidlist_module, "_parse_record", lambda *args: calls.append(args))
    parsed = parse_uidlist(data)
    assert calls == [] and len(parsed.records) == 1000
    assert parsed.records[-1] == UidlistRecord(1000, "x", ("S10", "W12"))


def test_build_equals_the_constructor() -> None:
    info = MessageInfo(1, frozenset({"\\Seen"}), ("k",), 3, 4, 5, 6.0, None, "g")
    assert build(MessageInfo, uid=1, flags=frozenset({"\\Seen"}), keywords=("k",), modseq=3, size=4, vsize=5,
                 internaldate=6.0, savedate=None, guid="g") == info
    msg = SyncedMessage(7, "a:2,S", "cur", frozenset({"\\Seen"}), ())
    built = build(SyncedMessage, uid=7, filename="a:2,S", subdir="cur", flags=frozenset({"\\Seen"}), keywords=())
    assert built == msg and built.relpath == "cur/a:2,S" and built.base == "a" and hash(built) == hash(msg)
    with pytest.raises(AttributeError):
        built.uid = 8  # type: ignore[misc]


_piece = st.sampled_from(["1700000000", "17", "", ".", ".M", "M12", "M3", "P9", ".host", ":2,S", ":", "x", "0", "M"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_piece, max_size=6).map("".join), max_size=12))
def test_fast_uid_order_equals_dovecots_pairwise_order(names: list[str]) -> None:
    unique = list({name.partition(":")[0]: name for name in names}.values())  # one file per base
    assert sorted_for_uid_order(unique) == sorted(unique, key=uid_order_key)


def test_one_file_gone_and_one_new_in_one_sync(tmp_path: Path) -> None:
    # The uidlist keeps its length (one record out, one in): every UID must still get its file.
    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir()
    for i in range(3):
        (tmp_path / "cur" / f"17000000{i:02d}.M{i}P1.h:2,").write_bytes(b"x")
    first = {m.uid: m.filename for m in sync_mailbox(str(tmp_path)).messages}
    os.unlink(tmp_path / "cur" / first[2])
    (tmp_path / "new" / "1700000099.M9P1.h").write_bytes(b"y")
    after = {m.uid: m.filename for m in sync_mailbox(str(tmp_path)).messages}
    assert after == {1: first[1], 3: first[3], 4: "1700000099.M9P1.h:2,"}
