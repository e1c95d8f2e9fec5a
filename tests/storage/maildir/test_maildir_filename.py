"""Message file names: goldens recorded from Dovecot 2.3.19, and property round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydovecot.storage.maildir import filename as fn

GOLDENS = Path(__file__).parent / "goldens"
GOLDEN_NAMES = (GOLDENS / "filenames.txt").read_text().splitlines()


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_golden_names_round_trip(name: str) -> None:
    parsed = fn.parse_filename(name)
    assert str(parsed) == name
    assert parsed.base == name.split(":", 1)[0]


def test_dovecot_own_name_parts() -> None:
    parsed = fn.parse_filename("1795619833.M761766P12770.vm,S=142,W=150:2,FRab")
    assert parsed.unique == fn.UniqueName(secs=1795619833, uniqueness="M761766P12770", host="vm")
    assert parsed.unique.usecs == 761766 and parsed.unique.pid == 12770
    assert parsed.fields == ("S=142", "W=150")
    assert (parsed.size, parsed.vsize) == (142, 150)
    flags = parsed.flags
    assert flags.system_flags == {"\\Flagged", "\\Answered"}
    assert flags.keyword_indexes == (0, 1)


@pytest.mark.parametrize(
    ("name", "system", "keywords"),
    [
        ("1795619818.M359982P12263.vm,S=140,W=148:2,S", {"\\Seen"}, ()),
        ("1795619833.M779780P12772.vm,S=142,W=150:2,DTc", {"\\Draft", "\\Deleted"}, (2,)),
        ("1700000001.12345_1.other.host:2,FSa", {"\\Flagged", "\\Seen"}, (0,)),
        ("1600000001.M1P1.h:2,", set(), ()),
        ("1795619847.M849503P13068.vm,S=142,W=150", set(), ()),
    ],
)
def test_golden_flags(name: str, system: set[str], keywords: tuple[int, ...]) -> None:
    flags = fn.parse_info_flags(name)
    assert flags.system_flags == system
    assert flags.keyword_indexes == keywords


def test_set_flags_matches_dovecot_renames() -> None:
    # doveadm flags add '\Flagged \Answered $Forwarded Junk' renamed the first to the second.
    before = "1795619833.M761766P12770.vm,S=142,W=150"
    assert fn.set_flags(before, {"\\Answered", "\\Flagged"}, [1, 0]) == before + ":2,FRab"
    assert fn.set_flags(before, {"\\Deleted", "\\Draft"}, [2]) == before + ":2,DTc"


def test_set_flags_keeps_unknown_letters_and_extra_fields() -> None:
    # 'P' (passed) means nothing to Dovecot but keeps its place; ",X" after the flags stays.
    name = "1.M1P1.h:2,PS,Xfoo"
    assert fn.set_flags(name, {"\\Seen", "\\Draft"}, [3]) == "1.M1P1.h:2,DPSd,Xfoo"
    assert fn.set_flags(name, set(), None) == "1.M1P1.h:2,P,Xfoo"
    assert fn.parse_info_flags(name).unknown_letters == "P"
    assert fn.parse_info_flags(name).extra == ",Xfoo"


def test_unescaped_colon_host_loses_its_tail_like_dovecot() -> None:
    # Real 2.3.19 on host "mx1:b.example" saved "...mx1:b.example,S=140,W=148"; adding \Seen
    # renamed it to "...mx1:2,S" (recorded in goldens/filenames.txt).
    saved = "1795619977.M35888P16101.mx1:b.example,S=140,W=148"
    assert fn.set_flags(saved, {"\\Seen"}) == "1795619977.M35888P16101.mx1:2,S"
    assert fn.base_name(saved) == "1795619977.M35888P16101.mx1"
    assert "1795619977.M35888P16101.mx1:2,S" in GOLDEN_NAMES


def test_size_fields_follow_dovecot_scan() -> None:
    assert fn.size_field("1.M1P1.h,W=150,S=142:2,S", "S") == 142
    assert fn.size_field("1.M1P1.h,W=150,S=142:2,S", "W") == 150
    assert fn.size_field("1.M1P1.h,S=142,X=zz,W=7", "W") == 7
    # First ",S=" decides; a bad one is not skipped (Dovecot then stats the file).
    assert fn.size_field("1795619977.M337174P16187.mx1,S=5.example,S=140,W=148", "S") is None
    assert fn.size_field("1.M1P1.h,S=:2,", "S") == 0
    assert fn.size_field("1.M1P1.h", "S") is None
    assert fn.physical_size_from_name("1.M1P1.h,S=999", broken_filename_sizes=True) is None
    assert fn.physical_size_from_name("1.M1P1.h,S=999") == 999


def test_hostname_escaping_and_generation() -> None:
    assert fn.escape_hostname("mx1/a:b") == "mx1\\057a\\072b"
    assert fn.unescape_hostname("mx1\\057a\\072b") == "mx1/a:b"
    base = fn.generate_base(1795619818, 359982, 12263, "a:b")
    assert base == "1795619818.M359982P12263.a\\072b"
    assert ":" not in fn.add_size_fields(base, 140, 148)
    assert fn.add_size_fields(base, 140, 148).endswith(",S=140,W=148")


def test_uid_order() -> None:
    names = [
        "1700000002.M5P9.x",
        "1700000001.M20P1.b",
        "1700000001.M3P1.z",
        "1600000000.12345_1.h:2,S",
    ]
    assert sorted(names, key=fn.uid_order_key) == [
        "1600000000.12345_1.h:2,S",
        "1700000001.M3P1.z",
        "1700000001.M20P1.b",
        "1700000002.M5P9.x",
    ]
    assert fn.compare_for_uid_order("5.a:2,S", "5.a") == 0


def test_rejects_impossible_names() -> None:
    with pytest.raises(fn.FilenameError):
        fn.parse_filename("cur/1.M1P1.h")
    with pytest.raises(fn.FilenameError):
        fn.parse_filename("")


_host = st.text(
    alphabet=st.characters(blacklist_characters="\x00,", min_codepoint=33, max_codepoint=0x2FF),
    min_size=1,
    max_size=20,
)
_letters = st.sets(st.sampled_from(sorted(fn.LETTER_TO_SYSTEM_FLAG.values())))
_kw = st.sets(st.integers(0, 25))


@given(
    secs=st.integers(0, 2**32),
    usecs=st.integers(0, 999_999),
    pid=st.integers(1, 2**22),
    host=_host,
    size=st.none() | st.integers(0, 2**40),
    vsize=st.none() | st.integers(0, 2**40),
    system=_letters,
    keywords=_kw,
)
def test_generate_parse_round_trip(secs, usecs, pid, host, size, vsize, system, keywords) -> None:
    base = fn.add_size_fields(fn.generate_base(secs, usecs, pid, host), size, vsize)
    name = fn.set_flags(base, system, keywords)
    parsed = fn.parse_filename(name)
    assert str(parsed) == name
    assert parsed.base == base
    assert parsed.unique.secs == secs and parsed.unique.usecs == usecs and parsed.unique.pid == pid
    assert fn.unescape_hostname(parsed.unique.host.split(",")[0]) == host
    assert parsed.size == size and parsed.vsize == vsize
    assert parsed.flags.system_flags == system
    assert set(parsed.flags.keyword_indexes) == keywords
    # Letters come out in ASCII order, as Dovecot writes them.
    letters = name.rsplit(":2,", 1)[1]
    assert list(letters) == sorted(letters)
    # Setting the same flags again changes nothing.
    assert fn.set_flags(name, system, keywords) == name


@given(
    unknown=st.text(alphabet="PQXYZ0123456789", max_size=4),
    system=_letters,
    keywords=_kw,
    extra=st.none() | st.text(alphabet="abcXYZ=0123", max_size=5),
)
def test_set_flags_preserves_foreign_parts(unknown, system, keywords, extra) -> None:
    old = "1.M1P1.h:2," + "".join(sorted(unknown)) + ("," + extra if extra is not None else "")
    new = fn.set_flags(old, system, keywords)
    flags = fn.parse_info_flags(new)
    assert flags.system_flags == system
    assert set(flags.keyword_indexes) == keywords
    assert sorted(flags.unknown_letters) == sorted(unknown)
    assert flags.extra == ("," + extra if extra is not None else "")
