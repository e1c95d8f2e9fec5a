"""The part tree: offsets, sizes and Dovecot's structural rules, checked on small messages."""

from __future__ import annotations

from pydovecot.storage.mime import parse_message
from pydovecot.storage.mime.parser import MAX_NESTED_PARTS, MAX_TOTAL_PARTS, PartFlag


def _mp(boundary: str, *parts: str, end: str = "") -> bytes:
    body = "".join(f"--{boundary}\n{p}\n" for p in parts) + end
    return (f"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary={boundary}\n\n" + body).encode()


def test_offsets_point_into_the_original_bytes() -> None:
    data = b"Subject: x\n\nbody\n"
    msg = parse_message(data)
    assert msg.data is data
    assert msg.root.header_bytes() == b"Subject: x\n\n"
    assert msg.root.body_bytes() == b"body\n"
    assert msg.root.eoh == b"\n"


def test_virtual_size_counts_bare_lf_as_crlf() -> None:
    msg = parse_message(b"A: b\n\nx\r\ny\n")
    assert msg.root.header_size() == (6, 8, 2)
    assert msg.root.body_size() == (5, 6, 2)


def test_newline_before_boundary_belongs_to_the_boundary() -> None:
    msg = parse_message(_mp("b", "\none", "\ntwo", end="--b--\n"))
    first, second = msg.root.children
    assert first.body_bytes() == b"one"
    assert second.body_bytes() == b"two"
    assert all(c.flags & PartFlag.IS_MIME for c in msg.root.children)


def test_boundary_is_a_prefix_match_and_longest_wins() -> None:
    msg = parse_message(_mp("ab", "\nx\n--abc\n\ny", end="--ab--\n"))
    # "--abc" starts a new part of boundary "ab" (only the prefix has to match)
    assert [c.body_bytes() for c in msg.root.children] == [b"x", b"y"]


def test_missing_end_boundary_runs_to_eof() -> None:
    msg = parse_message(_mp("z", "\nonly part no end"))
    (child,) = msg.root.children
    assert child.body_end == len(msg.data)


def test_header_cut_by_enclosing_boundary() -> None:
    msg = parse_message(b"Content-Type: multipart/mixed; boundary=e\n\n--e\nX: y\n--e--\n")
    (child,) = msg.root.children
    assert child.header_bytes() == b"X: y"  # its newline went to the parent with the boundary
    assert child.body_bytes() == b""


def test_nesting_stops_at_the_limit() -> None:
    inner = "Content-Type: text/plain\n\nleaf\n"
    for i in range(MAX_NESTED_PARTS + 20):
        inner = f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n{inner}\n--b{i}--\n"
    msg = parse_message(("From: a@b\n" + inner).encode())
    depth, part = 0, msg.root
    while part.children:
        part, depth = part.children[0], depth + 1
    assert depth == MAX_NESTED_PARTS - 1
    assert not part.flags & PartFlag.MULTIPART  # the deepest multipart is kept as a leaf


def test_total_parts_limit_lets_the_last_part_run_to_eof() -> None:
    data = _mp("b", *("\nx" for _ in range(MAX_TOTAL_PARTS + 5)), end="--b--\n")
    msg = parse_message(data)
    assert len(msg.root.children) == MAX_TOTAL_PARTS - 1
    assert msg.root.children[-1].body_end == len(data)


def test_tolerates_nul_bare_cr_and_no_separator() -> None:
    for data in (b"", b"\n", b"X", b"A: \x00\rb", b"no colon line", b"\x00\x00\n\n\x00"):
        msg = parse_message(data)
        assert msg.root.body_end == len(data)


def test_long_lines_and_many_boundary_lookalikes_stay_cheap() -> None:
    data = _mp("b", "\n" + "x" * 1_000_000, "\n" + "--y\n" * 100_000, end="--b--\n")
    msg = parse_message(data)
    assert len(msg.root.children) == 2
