"""Hypothesis strategy for awkward MIME messages (used by the live oracle test)."""

from __future__ import annotations

from hypothesis import strategies as st

_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "Reply-To", "Sender",
          "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-ID",
          "Content-Language", "MIME-Version", "X-Junk"]
_VALUES = [
    "a@b.c", "\"Q, R\" <q@r.s>", "grp: x@y, z@w;", "=?utf-8?q?caf=C3=A9?=", "(c) <x@y>", "", "  spaced  ",
    "text/plain; charset=utf-8", "text/html", "application/pdf; name=\"a b.pdf\"", "text",
    "base64", "quoted-printable", "8bit", "x-weird", "attachment; filename*=utf-8''%C3%A4.txt",
    "inline", "1.0", "<id@x>", "en, de-DE", "caf\u00e9 \"q\" \\ back", "line\n folded\n\tagain",
    "text/plain; name*0=\"a\"; name*1=\"b\"; name*2*=%41", "text/plain; charset=iso-8859-1",
    "multipart/alternative", "message/rfc822", "undisclosed:;", "a@b, , c@d", "\"a\\\"b\" <x@y>",
    "<@r1,@r2:u@d>", "x@[1.2.3.4]", "u@", "@d", "Name <u@d", "\"\" <e@x>", "a (b) c <d@e> (f)",
    "nul\0inside", "\"\\\"\\\"\\\"\\\"\\\"\"", "=?iso-8859-1?q?a?= =?utf-8?b?w6Q=?=", "x" * 300,
    "attachment; filename=\"f.txt\"; size=12", "text/html; charset=\"utf-8\"; format=flowed",
    "TEXT/PLAIN", "application/octet-stream; x*=us-ascii'en'a%20b",
]
_BODIES = ["hello\n", "", "no newline", "=C3=A9t=C3=A9=\nsoft\n", "aGVsbG8gd29ybGQ=\n", "SGk!\n",
           "<p>x&amp;y</p>\n", "> quoted\nreal text\n", "\u00e4\u00f6\u00fc\n", "a\0b\n", "--notb\n",
           "bare\rcr\n", "  lots   of\t\tspace  \n", "<!-- c --><script>x</script><b>B</b>&nbsp;&lt;&#65;&bogus;\n",
           "=ZZ bad qp\n", "line1\r\nline2\r\n", "\n\n\nlate text\n", "> q1\n> q2\n", "\u00e9t\u00e9\n",
           "w7Zrw7Y=\n", "y" * 500 + "\n", "\ufeffbom text\n", "\t\v\f mixed ws\n"]


@st.composite
def header(draw: st.DrawFn) -> str:
    fields = draw(st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=6))
    return "".join(f"{n}: {v}\n" for n, v in fields)


@st.composite
def part(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["leaf", "leaf", "multi", "rfc822", "raw"] if depth < 3 else ["leaf", "raw"]))
    hdr = draw(header())
    if kind == "leaf":
        return hdr + "\n" + draw(st.sampled_from(_BODIES))
    if kind == "raw":  # no empty line after the header, or only body lines
        return hdr + draw(st.sampled_from(_BODIES))
    if kind == "rfc822":
        return hdr + "Content-Type: message/rfc822\n\n" + draw(part(depth + 1))
    # (boundaries over 70 characters are left out: Dovecot's answers for them depend on how its
    # input buffer happens to be filled)
    boundary = draw(st.sampled_from(["b", "bb", "b-1", "=_x", "", "b" * 70]))
    boundary += draw(st.sampled_from(["", str(depth)]))
    subtype = draw(st.sampled_from(["mixed", "mixed", "digest", "alternative"]))
    children = draw(st.lists(part(depth + 1), max_size=3))
    end = draw(st.sampled_from([f"--{boundary}--\n", "", f"--{boundary}--", f"--{boundary}--\nepilogue\n"]))
    pre = draw(st.sampled_from(["", "preamble\n"]))
    body = pre + "".join(f"--{boundary}\n{c}\n" for c in children) + end
    return hdr + f"MIME-Version: 1.0\nContent-Type: multipart/{subtype}; boundary=\"{boundary}\"\n\n" + body


@st.composite
def message(draw: st.DrawFn) -> bytes:
    text = draw(part())
    newline = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    if newline == "crlf":
        text = text.replace("\n", "\r\n")
    elif newline == "mixed":
        lines = text.split("\n")
        flips = draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
        text = "".join(line + ("\r\n" if flip else "\n") for line, flip in zip(lines, flips, strict=True))
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8", "latin-1"])), errors="replace")
