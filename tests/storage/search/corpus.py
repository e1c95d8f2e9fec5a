"""The SEARCH/SORT/THREAD test corpus: ~60 messages written into a Maildir.

Deterministic: the same files, names, mtimes, keywords and UIDs every time, so the golden answers
recorded from real Dovecot (record_goldens.py) stay valid. UIDs have gaps (dovecot-uidlist is
written here) so that UID sets and sequence sets differ.
"""

from __future__ import annotations

import base64
import os
import quopri
from dataclasses import dataclass
from pathlib import Path

KEYWORDS = ("$Forwarded", "Junk", "todo")
UIDVALIDITY = 1700000000
BASE_TIME = 1700000000  # 2023-11-14 22:13:20 UTC


@dataclass(frozen=True)
class Spec:
    headers: str  # header lines, "\n"-separated, without the blank line
    body: str = "Hello world.\n"
    flags: str = ""  # maildir letters: D F R S T, keywords a b c
    mtime: int = 0  # offset from BASE_TIME in seconds
    new: bool = False  # lives in new/ (then no flags)


def _b64(text: str, charset: str = "utf-8") -> str:
    data = base64.b64encode(text.encode(charset)).decode()
    return "\n".join(data[i : i + 76] for i in range(0, len(data), 76)) + "\n"


def _qp(text: str, charset: str = "utf-8") -> str:
    return quopri.encodestring(text.encode(charset)).decode()


_H = 3600
_D = 86400

SPECS: list[Spec] = [
    # 1-6: a REFERENCES thread with Re:/Fwd: subjects
    Spec(
        "From: Alice Example <alice@example.com>\nTo: Bob <bob@example.org>\nSubject: Project plan\n"
        "Date: Mon, 13 Nov 2023 10:00:00 +0100\nMessage-ID: <t1@example.com>",
        "Let us plan the project.\n",
        "S",
        0,
    ),
    Spec(
        "From: Bob <bob@example.org>\nTo: Alice Example <alice@example.com>\nSubject: Re: Project plan\n"
        "Date: Mon, 13 Nov 2023 11:00:00 +0100\nMessage-ID: <t1r1@example.org>\nIn-Reply-To: <t1@example.com>\n"
        "References: <t1@example.com>",
        "> Let us plan the project.\nAgreed.\n",
        "RS",
        _H,
    ),
    Spec(
        "From: Carol <carol@example.net>\nTo: bob@example.org, alice@example.com\nCc: dave@example.com\n"
        "Subject: RE: Re: Project plan\nDate: Mon, 13 Nov 2023 12:30:00 +0000\n"
        "Message-ID: <t1r2@example.net>\nReferences: <t1@example.com> <t1r1@example.org>",
        "Me too.\n",
        "S",
        2 * _H,
    ),
    Spec(
        "From: dave@example.com\nTo: Alice Example <alice@example.com>\nSubject: Fwd: Project plan\n"
        "Date: Tue, 14 Nov 2023 09:00:00 -0500\nMessage-ID: <t1f@example.com>\nReferences: <t1@example.com>",
        "Forwarding this.\n",
        "Sa",
        _D,
    ),
    Spec(
        "From: Alice Example <alice@example.com>\nTo: Carol <carol@example.net>\n"
        "Subject: Re: [fwd: Project plan]\nDate: Tue, 14 Nov 2023 23:30:00 -0800\n"
        "Message-ID: <t1f1@example.com>\nIn-Reply-To: <t1f@example.com>\n"
        "References: <t1@example.com> <t1f@example.com>",
        "Thanks for forwarding.\n",
        "",
        _D + 5 * _H,
    ),
    Spec(
        "From: Bob <bob@example.org>\nTo: Carol <carol@example.net>\nSubject: Re: Project plan (fwd)\n"
        "Date: Wed, 15 Nov 2023 00:30:00 +1400\nMessage-ID: <t1r3@example.org>\n"
        "In-Reply-To: <t1r2@example.net>",
        "Late reply.\n",
        "F",
        2 * _D,
    ),
    # 7-10: broken thread: parent missing, siblings share it; a loop
    Spec(
        "From: Eve <eve@example.com>\nTo: list@example.com\nSubject: Re: Missing parent\n"
        "Date: Thu, 16 Nov 2023 08:00:00 +0000\nMessage-ID: <b1@example.com>\n"
        "References: <gone@example.com>",
        "first orphan\n",
        "",
        3 * _D,
    ),
    Spec(
        "From: Frank <frank@example.com>\nTo: list@example.com\nSubject: Re: Missing parent\n"
        "Date: Thu, 16 Nov 2023 09:00:00 +0000\nMessage-ID: <b2@example.com>\n"
        "References: <gone@example.com>",
        "second orphan\n",
        "S",
        3 * _D + _H,
    ),
    Spec(
        "From: Grace <grace@example.com>\nTo: list@example.com\nSubject: Loop A\n"
        "Date: Thu, 16 Nov 2023 10:00:00 +0000\nMessage-ID: <loopa@example.com>\n"
        "References: <loopb@example.com>",
        "loop a\n",
        "",
        3 * _D + 2 * _H,
    ),
    Spec(
        "From: Grace <grace@example.com>\nTo: list@example.com\nSubject: Re: Loop A\n"
        "Date: Thu, 16 Nov 2023 10:05:00 +0000\nMessage-ID: <loopb@example.com>\n"
        "References: <loopa@example.com>",
        "loop b\n",
        "",
        3 * _D + 3 * _H,
    ),
    # 11-16: encoded words, display names, groups
    Spec(
        "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\nTo: Zoe <zoe@example.com>\n"
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\nDate: 17 Nov 2023 12:00:00 +0100\n"
        "Message-ID: <enc1@example.de>",
        "Servus.\n",
        "S",
        4 * _D,
    ),
    Spec(
        "From: =?ISO-8859-1?Q?Fran=E7ois?= <francois@example.fr>\nTo: undisclosed-recipients:;\n"
        "Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\nDate: Fri, 17 Nov 2023 13:00:00 +0100\n"
        "Message-ID: <enc2@example.fr>",
        "Un caf\u00e9.\n",
        "",
        4 * _D + _H,
    ),
    Spec(
        'From: "Smith, John" <john@example.com>, mary@example.com\n'
        'To: Team: ann@example.com, "Zed" <zed@example.com>;, plain@example.com\n'
        "Subject: Re: =?UTF-8?Q?R=C3=A9union?= =?UTF-8?Q?_demain?=\nDate: Sat, 18 Nov 2023 07:00:00 -0300\n"
        "Message-ID: <enc3@example.com>",
        "Two authors.\n",
        "Sb",
        5 * _D,
    ),
    Spec(
        "From: <nobody@example.com>\nTo: =?UTF-8?B?w4VzYQ==?= <asa@example.se>\nSubject: [PATCH] fix bug\n"
        "Date: Sun, 19 Nov 2023 01:00:00 +0200\nMessage-ID: <p1@example.com>",
        "diff --git a/x b/x\n",
        "Sc",
        6 * _D,
    ),
    Spec(
        "From: Mallory <mallory@example.com>\nTo: Bob <bob@example.org>\nSubject: Re: [PATCH] fix bug\n"
        "Date: Sun, 19 Nov 2023 03:00:00 +0200\nMessage-ID: <p2@example.com>\nIn-Reply-To: <p1@example.com>",
        "Looks good.\n",
        "S",
        6 * _D + _H,
    ),
    Spec(
        "From: Mallory <mallory@example.com>\nTo: Bob <bob@example.org>\n"
        "Subject: [PATCH v2] [fwd: fix bug]\nDate: Sun, 19 Nov 2023 05:00:00 +0200\n"
        "Message-ID: <p3@example.com>",
        "v2\n",
        "",
        6 * _D + 2 * _H,
    ),
    # 17-22: missing headers, odd dates
    Spec("From: nodate@example.com\nSubject: No date header", "no date\n", "", 7 * _D),
    Spec("Subject: No from header\nDate: Mon, 20 Nov 2023 10:00:00 GMT", "no from\n", "S", 7 * _D + _H),
    Spec(
        "From: nosubject@example.com\nDate: Mon, 20 Nov 2023 11:00:00 EST",
        "no subject\n",
        "",
        7 * _D + 2 * _H,
    ),
    Spec(
        "From: bad@example.com\nSubject: Bad date\nDate: not a date at all",
        "bad date\n",
        "",
        7 * _D + 3 * _H,
    ),
    Spec(
        "From: Two Digit <two@example.com>\nSubject: Two digit year\nDate: 21 Nov 23 23:59:59 -1200",
        "yy\n",
        "",
        8 * _D,
    ),
    Spec(
        "From: Early <early@example.com>\nSubject: Early\nDate: Tue, 21 Nov 2023 00:00:01 +0000\n"
        "Message-ID: <early@example.com>",
        "early\n",
        "T",
        8 * _D + _H,
    ),
    # 23-28: transfer encodings and MIME structure
    Spec(
        "From: Base Sixty-Four <b64@example.com>\nSubject: base64 body\nDate: Wed, 22 Nov 2023 10:00:00 +0000\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
        _b64("Die Stra\u00dfe ist lang. \u00d1and\u00fa corre. \u01c5ungla.\n"),
        "S",
        9 * _D,
    ),
    Spec(
        "From: Quoted <qp@example.com>\nSubject: qp body\nDate: Wed, 22 Nov 2023 11:00:00 +0000\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable",
        "Voil=E0 un r=E9sum=E9 tr=E8s long qui continue sur la ligne sui=\nvante sans coupure.\n",
        "",
        9 * _D + _H,
    ),
    Spec(
        "From: Multi <multi@example.com>\nSubject: multipart alternative\nDate: Wed, 22 Nov 2023 12:00:00 +0000\n"
        'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="XYZ"',
        "preamble text\n--XYZ\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n"
        "\nplain =C3=A9t=C3=A9 part\n--XYZ\nContent-Type: text/html\n\n<p>html <b>bold</b> part</p>\n"
        "--XYZ--\nepilogue text\n",
        "S",
        9 * _D + 2 * _H,
    ),
    Spec(
        "From: Attach <attach@example.com>\nSubject: with attachment\nDate: Wed, 22 Nov 2023 13:00:00 +0000\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1",
        "--b1\nContent-Type: text/plain\n\nsee attached\n--b1\nContent-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=x.bin\n\n"
        + _b64("secretpayload inside attachment\n")
        + "--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + _b64("second text part with \u00fcmlaut\n")
        + "--b1--\n",
        "",
        9 * _D + 3 * _H,
    ),
    Spec(
        "From: Forwarder <fwd@example.com>\nSubject: Fw: embedded message\nDate: Wed, 22 Nov 2023 14:00:00 +0000\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer",
        "--outer\nContent-Type: text/plain\n\nsee below\n--outer\nContent-Type: message/rfc822\n\n"
        "From: Inner <inner@example.com>\nSubject: inner subject\n\ninner body words\n--outer--\n",
        "S",
        9 * _D + 4 * _H,
    ),
    Spec(
        "From: Html Only <html@example.com>\nSubject: html only\nDate: Wed, 22 Nov 2023 15:00:00 +0000\n"
        "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64",
        _b64("<html><body>Gr\u00fc\u00dfe &amp; more</body></html>\n"),
        "",
        9 * _D + 5 * _H,
    ),
    # 29-36: ORDEREDSUBJECT groups, subject normalization
    Spec(
        "From: Sam <sam@example.com>\nSubject: Weekly   report\nDate: Thu, 23 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <w1@example.com>",
        "week 1\n",
        "S",
        10 * _D,
    ),
    Spec(
        "From: Sam <sam@example.com>\nSubject: re: Weekly report\nDate: Fri, 24 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <w2@example.com>",
        "week 2\n",
        "S",
        11 * _D,
    ),
    Spec(
        "From: Sam <sam@example.com>\nSubject: RE:re: [list] Weekly report\nDate: Wed, 22 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <w3@example.com>",
        "week 0\n",
        "",
        12 * _D,
    ),
    Spec(
        "From: Sam <sam@example.com>\nSubject: [list] Re: Weekly report (fwd) (fwd)\n"
        "Date: Sat, 25 Nov 2023 09:00:00 +0000\nMessage-ID: <w4@example.com>",
        "week 3\n",
        "",
        13 * _D,
    ),
    Spec(
        "From: Tina <tina@example.com>\nSubject: \nDate: Sat, 25 Nov 2023 10:00:00 +0000\n"
        "Message-ID: <empty1@example.com>",
        "empty subject\n",
        "",
        13 * _D + _H,
    ),
    Spec(
        "From: Tina <tina@example.com>\nSubject: Re:\nDate: Sat, 25 Nov 2023 11:00:00 +0000\n"
        "Message-ID: <empty2@example.com>",
        "re only\n",
        "",
        13 * _D + 2 * _H,
    ),
    Spec(
        "From: Uma <uma@example.com>\nSubject: Fwd: Re: Fwd: Budget\nDate: Sun, 26 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <bud1@example.com>",
        "budget\n",
        "S",
        14 * _D,
    ),
    Spec(
        "From: uma@example.com\nSubject: budget\nDate: Sun, 26 Nov 2023 08:00:00 +0000\n"
        "Message-ID: <bud2@example.com>",
        "budget lower\n",
        "S",
        14 * _D + _H,
    ),
    # 37-44: duplicate message-ids, references only, in-reply-to with junk, flags
    Spec(
        "From: Victor <victor@example.com>\nSubject: Duplicate id\nDate: Mon, 27 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <dup@example.com>",
        "dup 1\n",
        "F",
        15 * _D,
    ),
    Spec(
        "From: Victor <victor@example.com>\nSubject: Duplicate id\nDate: Mon, 27 Nov 2023 10:00:00 +0000\n"
        "Message-ID: <dup@example.com>",
        "dup 2\n",
        "FS",
        15 * _D + _H,
    ),
    Spec(
        "From: Wendy <wendy@example.com>\nSubject: Re: Duplicate id\nDate: Mon, 27 Nov 2023 11:00:00 +0000\n"
        "Message-ID: <dupr@example.com>\nIn-Reply-To: Victor's message <dup@example.com> of Monday",
        "reply to dup\n",
        "RS",
        15 * _D + 2 * _H,
    ),
    Spec(
        "From: Xavier <xavier@example.com>\nSubject: Deep thread\nDate: Tue, 28 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <d1@example.com>",
        "d1\n",
        "S",
        16 * _D,
    ),
    Spec(
        "From: Xavier <xavier@example.com>\nSubject: Re: Deep thread\nDate: Tue, 28 Nov 2023 10:00:00 +0000\n"
        "Message-ID: <d3@example.com>\nReferences: <d1@example.com> <d2@example.com>",
        "d3 (d2 is missing)\n",
        "S",
        16 * _D + _H,
    ),
    Spec(
        "From: Xavier <xavier@example.com>\nSubject: Re: Deep thread\nDate: Tue, 28 Nov 2023 11:00:00 +0000\n"
        "Message-ID: <d4@example.com>\nReferences: <d1@example.com> <d2@example.com> <d3@example.com>",
        "d4\n",
        "",
        16 * _D + 2 * _H,
    ),
    Spec(
        "From: Xavier <xavier@example.com>\nSubject: Re: Deep thread\nDate: Tue, 28 Nov 2023 08:00:00 +0000\n"
        "Message-ID: <d2b@example.com>\nReferences: <d1@example.com> <d2@example.com>",
        "sibling of d3 under missing d2, older date\n",
        "D",
        16 * _D + 3 * _H,
    ),
    Spec(
        "From: Yara <yara@example.com>\nSubject: Keywords all\nDate: Wed, 29 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <kw@example.com>",
        "keywords\n",
        "DFRSTabc",
        17 * _D,
    ),
    # 45-52: sizes, header searches, cc/bcc, mixed case, titlecase chars
    Spec(
        'From: Zack <zack@example.com>\nTo: a@example.com\nCc: "Cee Cee" <cc@example.com>\n'
        "Bcc: hidden@example.com\nSubject: Copies\nDate: Thu, 30 Nov 2023 09:00:00 +0000\n"
        "Message-ID: <cc1@example.com>\nX-Custom: Some Value\nX-Empty:",
        "copies\n",
        "S",
        18 * _D,
    ),
    Spec(
        "From: Zack <zack@example.com>\nTo: b@example.com\nSubject: Big message\n"
        "Date: Thu, 30 Nov 2023 10:00:00 +0000\nMessage-ID: <big@example.com>",
        "lorem ipsum dolor sit amet " * 300 + "\n",
        "",
        18 * _D + _H,
    ),
    Spec(
        "From: ZACK <ZACK@EXAMPLE.COM>\nTo: c@example.com\nSubject: UPPER CASE SUBJECT\n"
        "Date: Thu, 30 Nov 2023 11:00:00 +0000\nMessage-ID: <upper@example.com>",
        "MIXED Case Body TEXT\n",
        "",
        18 * _D + 2 * _H,
    ),
    Spec(
        "From: =?UTF-8?B?x4V1cm8=?= <dzuro@example.com>\nSubject: =?UTF-8?Q?=C7=85ungla_=C3=9F?=\n"
        "Date: Thu, 30 Nov 2023 12:00:00 +0000\nMessage-ID: <title@example.com>\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        "\u0130stanbul \u00c5ngstr\u00f6m \ufb01ne caf\u00e9\n",
        "S",
        18 * _D + 3 * _H,
    ),
    Spec(
        "From: Folded <folded@example.com>\nSubject: This subject is\n folded over\n\ttwo lines\n"
        "Date: Fri, 01 Dec 2023 09:00:00 +0000\nMessage-ID: <fold@example.com>\n"
        "X-Folded: part one\n  part two",
        "folded\n",
        "",
        19 * _D,
    ),
    Spec(
        "From: Group Only <group@example.com>\nTo: Friends: ;\nCc: Undisclosed:;\n"
        "Subject: Group recipients\nDate: Fri, 01 Dec 2023 10:00:00 +0000\nMessage-ID: <grp@example.com>",
        "group\n",
        "",
        19 * _D + _H,
    ),
    Spec(
        'From: "Quoted \\"Name\\"" <quoted@example.com>\nTo: (comment) bare@example.com\n'
        "Subject: Quoted display name\nDate: Fri, 01 Dec 2023 11:00:00 +0000 (UTC)\n"
        "Message-ID: <q@example.com>",
        "quoted\n",
        "",
        19 * _D + 2 * _H,
    ),
    Spec(
        "From: aaron@example.com (Aaron Comment)\nTo: Zoe <zoe@example.com>\nSubject: Comment name\n"
        "Date: Fri, 01 Dec 2023 12:00:00 +0000\nMessage-ID: <cmt@example.com>",
        "comment\n",
        "",
        19 * _D + 3 * _H,
    ),
    # 53-60: midnight boundaries, new/ messages, equal keys for tie-breaking
    Spec(
        "From: Mid <mid@example.com>\nSubject: Same\nDate: Sat, 02 Dec 2023 23:59:59 +0000\n"
        "Message-ID: <s1@example.com>",
        "same 1\n",
        "",
        20 * _D - 1,
    ),
    Spec(
        "From: Mid <mid@example.com>\nSubject: Same\nDate: Sat, 02 Dec 2023 23:59:59 +0000\n"
        "Message-ID: <s2@example.com>",
        "same 2\n",
        "",
        20 * _D - 1,
    ),
    Spec(
        "From: Mid <mid@example.com>\nSubject: same\nDate: Sun, 03 Dec 2023 00:00:00 +0100\n"
        "Message-ID: <s3@example.com>",
        "same 3\n",
        "",
        20 * _D,
    ),
    Spec(
        "From: New One <new1@example.com>\nSubject: Fresh delivery\nDate: Mon, 04 Dec 2023 09:00:00 +0000\n"
        "Message-ID: <n1@example.com>",
        "new 1\n",
        "",
        21 * _D,
        True,
    ),
    Spec(
        "From: New Two <new2@example.com>\nSubject: Re: Fresh delivery\nDate: Mon, 04 Dec 2023 10:00:00 +0000\n"
        "Message-ID: <n2@example.com>\nIn-Reply-To: <n1@example.com>",
        "new 2\n",
        "",
        21 * _D + _H,
        True,
    ),
    Spec(
        "From: Older Parent <old@example.com>\nSubject: Re: Fresh delivery\nDate: Sun, 03 Dec 2023 09:00:00 +0000\n"
        "Message-ID: <n0@example.com>\nReferences: <n1@example.com>",
        "reply dated before parent\n",
        "S",
        21 * _D + 2 * _H,
    ),
    Spec(
        "From: Charset <cs@example.com>\nSubject: =?KOI8-R?B?8NLJ18XU?=\nDate: Tue, 05 Dec 2023 09:00:00 +0000\n"
        "Message-ID: <koi@example.com>\nContent-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: 8bit",
        "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440\n",
        "S",
        22 * _D,
    ),
    Spec(
        "From: Last <last@example.com>\nSubject: Re: Re: Project plan\nDate: Wed, 06 Dec 2023 09:00:00 +0000\n"
        "Message-ID: <last@example.com>\nReferences: <t1r1@example.org>",
        "late joiner referencing a middle message\n",
        "",
        23 * _D,
    ),
    # 61-72: edge cases added after the first parity round
    Spec(
        "From: Xavier <xavier@example.com>\nSubject: Re: Deep thread\nDate: Thu, 07 Dec 2023 9:5 +0000",
        "no message-id, joins by subject\n",
        "",
        24 * _D,
    ),
    Spec(
        "From: Self <self@example.com>\nSubject: Self reference\nDate: Thu, 07 Dec 2023 10:00:00 -0000\n"
        "Message-ID: <self@example.com>\nReferences: <selfparent@example.com> <self@example.com>",
        "refs itself\n",
        "",
        24 * _D + _H,
    ),
    Spec(
        "From: Conflict <conflict@example.com>\nSubject: Re: Weekly report\nDate: Fri, 08 Dec 2023 10:00:00\n"
        "Message-ID: <conf@example.com>\nReferences: <w1@example.com> <t1r1@example.org> <dangling@example.com>",
        "conflicting chain\n",
        "S",
        25 * _D,
    ),
    Spec(
        "From: Garbage <garbage@example.com>\nSubject: Re: Early\nDate: Fri, 08 Dec 2023 11:00:00 +0000\n"
        "Message-ID: <garb@example.com>\nReferences: garbage without ids\nIn-Reply-To: <early@example.com>",
        "garbage references\n",
        "",
        25 * _D + _H,
    ),
    Spec(
        "From: Mid <mid@example.com>\nSubject: Re: Same\nDate: Fri, 08 Dec 2023 12:00:00 +0000\n"
        "Message-ID: <s4@example.com>",
        "reply merging into a dummy\n",
        "",
        25 * _D + 2 * _H,
    ),
    Spec(
        "From: <@relay.example:routed@example.com>\nTo: justuser\nCc: \nSubject: [blob only]\n"
        "Date: Sat, 09 Dec 2023 10:00:00 +0000\nMessage-ID: <route@example.com>",
        "route\n",
        "",
        26 * _D,
    ),
    Spec(
        'From: Admins: root@example.com, "Ops" <ops@example.com>;\nTo: Zoe <zoe@example.com>\n'
        "Subject: Re: [fwd: ]\nDate: Sat, 09 Dec 2023 11:00:00 +0000\nMessage-ID: <grpfrom@example.com>",
        "group in from\n",
        "",
        26 * _D + _H,
    ),
    Spec(
        "From: Unknown Charset <uc@example.com>\nSubject: Hello=?utf-8?q?_there?= =?x-unknown?q?abc?= "
        "=?utf-8?b?w6k=?=\nDate: Sat, 09 Dec 2023 12:00:00 +0000\nMessage-ID: <uc@example.com>\n"
        "Content-Type: TEXT/PLAIN; charset=x-unknown-charset\nContent-Transfer-Encoding: Base64",
        _b64("unknown charset body na\u00efve\n"),
        "",
        26 * _D + 2 * _H,
    ),
    Spec(
        "From: No Boundary <nb@example.com>\nSubject: Fwd:Fwd: (fwd)\nDate: Sun, 10 Dec 2023 10:00:00 +0000\n"
        "Message-ID: <nb@example.com>\nContent-Type: multipart/mixed",
        "body of a multipart without boundary\n",
        "",
        27 * _D,
    ),
    Spec(
        "From: Html Entity <he@example.com>\nSubject: entities\nDate: Sun, 10 Dec 2023 11:00:00 +0000\n"
        'Message-ID: <he@example.com>\nContent-Type: text/html; charset="utf-8"',
        "<p>caf&eacute; &amp; tea</p>\n",
        "",
        27 * _D + _H,
    ),
    Spec(
        "From: Digest <digest@example.com>\nSubject: digest\nDate: Sun, 10 Dec 2023 12:00:00 +0000\n"
        "Message-ID: <digest@example.com>\nContent-Type: multipart/digest; boundary=dd",
        "--dd\n\nFrom: a@example.com\nSubject: digest part one\n\ndigestbodyone\n--dd\n\n"
        "From: b@example.com\n\ndigestbodytwo\n--dd--\n",
        "",
        27 * _D + 2 * _H,
    ),
    Spec(
        "From: Late Same <ls@example.com>\nSubject: Same\nDate: Mon, 11 Dec 2023 10:00:00 +0000\n"
        "In-Reply-To: <n2@example.com>",
        "no message-id but a parent\n",
        "",
        28 * _D,
    ),
    # 73-84: third round: thread corner cases, nested MIME, more charsets
    Spec(
        "From: Early Ref <er@example.com>\nSubject: Re: Placeholder first\nDate: Mon, 11 Dec 2023 11:00:00 +0000\n"
        "Message-ID: <ph-child@example.com>\nReferences: <ph@example.com>",
        "references a message that arrives later\n",
        "",
        28 * _D + _H,
    ),
    Spec(
        "From: Placeholder <ph@example.com>\nSubject: Placeholder first\nDate: Mon, 11 Dec 2023 10:00:00 +0000\n"
        "Message-ID: <ph@example.com>",
        "arrives after its reply\n",
        "",
        28 * _D + 2 * _H,
    ),
    Spec(
        "From: Reparent <rp@example.com>\nSubject: Re: Placeholder first\nDate: Mon, 11 Dec 2023 12:00:00 +0000\n"
        "Message-ID: <rp@example.com>\nReferences: <other-root@example.com> <ph@example.com> <ph-child@example.com>",
        "claims ph has a parent other-root\n",
        "",
        28 * _D + 3 * _H,
    ),
    Spec(
        "From: Replies <r1@example.com>\nSubject: Re: Only replies\nDate: Tue, 12 Dec 2023 10:00:00 +0000\n"
        "Message-ID: <or1@example.com>",
        "reply 1\n",
        "",
        29 * _D,
    ),
    Spec(
        "From: Replies <r2@example.com>\nSubject: Fwd: Only replies\nDate: Tue, 12 Dec 2023 09:00:00 +0000\n"
        "Message-ID: <or2@example.com>",
        "reply 2\n",
        "",
        29 * _D + _H,
    ),
    Spec(
        "From: Orphans <o@example.com>\nSubject: Re: Only replies\nDate: Tue, 12 Dec 2023 11:00:00 +0000\n"
        "Message-ID: <or3@example.com>\nReferences: <nowhere1@example.com>",
        "reply under a dummy\n",
        "",
        29 * _D + 2 * _H,
    ),
    Spec(
        "From: Orphans <o@example.com>\nSubject: Only replies\nDate: Tue, 12 Dec 2023 12:00:00 +0000\n"
        "Message-ID: <or4@example.com>\nReferences: <nowhere2@example.com>",
        "non-reply under a single-child dummy\n",
        "",
        29 * _D + 3 * _H,
    ),
    Spec(
        "From: Nested <nested@example.com>\nSubject: nested alternative\nDate: Wed, 13 Dec 2023 10:00:00 +0000\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer"\nMessage-ID: <nest@example.com>',
        '--outer\nContent-Type: multipart/alternative; boundary="inner"\n\n--inner\n'
        "Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n"
        + _b64("sixteen bit text", "utf-16")
        + "--inner\nContent-Type: text/plain; format=flowed\n\nflowed line \nwrapped here\n--inner--\n"
        "--outer\nContent-Type: text/x-vcard; name=card.vcf\nContent-Transfer-Encoding: base64\n\n"
        + _b64("BEGIN:VCARD vcardword END:VCARD\n")
        + "--outer\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; dsnword.example\n--outer--\n",
        "",
        30 * _D,
    ),
    Spec(
        "From: =?x-unknown?q?Weird?= <weird@example.com>\nTo: =?utf-8?q?=C3=89mile?= <emile@example.com>\n"
        "Subject: =?x-unknown?q?Zzz?= tail\nDate: Wed, 13 Dec 2023 11:00:00 +0000\nMessage-ID: <weird@example.com>",
        "weird\n",
        "",
        30 * _D + _H,
    ),
    Spec(
        "From: Folded From <ff@example.com>,\n\tSecond Person <second@example.com>\nSubject: Re:   [fwd: Re: Folded]\n"
        "Date: Wed, 13 Dec 2023 12:00:00 +0000\nMessage-ID: <ff@example.com>\nX-Tab:\ttabbed\tvalue",
        "folded from\n",
        "",
        30 * _D + 2 * _H,
    ),
    Spec(
        "From: Latin <latin@example.com>\nSubject: =?iso-8859-15?q?Euro_=A4?=\nDate: Wed, 13 Dec 2023 13:00:00 +0000\n"
        "Message-ID: <latin@example.com>\nContent-Type: text/plain; charset=windows-1252\n"
        "Content-Transfer-Encoding: quoted-printable",
        "smart =93quotes=94 and =80uro\n",
        "",
        30 * _D + 3 * _H,
    ),
    Spec(
        "From: Same Date <sd@example.com>\nSubject: Placeholder first\nDate: Mon, 11 Dec 2023 10:00:00 +0000\n"
        "Message-ID: <sd@example.com>",
        "same subject and date as 74\n",
        "",
        30 * _D + 4 * _H,
    ),
]


def uid_of(seq: int) -> int:
    """UIDs with gaps: 1 2 3 4 8 9 10 11 15 ..."""
    return seq + 3 * ((seq - 1) // 4)


def _body_bytes(spec: Spec) -> bytes:
    charset = "utf-8"
    lower = spec.headers.lower()
    if "charset=iso-8859-1" in lower and "quoted-printable" not in lower:
        charset = "iso-8859-1"
    if "charset=koi8-r" in lower:
        charset = "koi8-r"
    return spec.body.encode(charset)


def message_bytes(spec: Spec) -> bytes:
    return spec.headers.encode("utf-8") + b"\n\n" + _body_bytes(spec)


def build_maildir(root: Path) -> None:
    """Write the corpus as a Maildir at root (cur/ new/ tmp/ plus uidlist and keywords)."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    uidlist = [f"3 V{UIDVALIDITY} N{uid_of(len(SPECS)) + 1}"]
    for seq, spec in enumerate(SPECS, start=1):
        base = f"{BASE_TIME + spec.mtime}.M{seq}P1.corpus"
        name = base if spec.new else f"{base}:2,{spec.flags}"
        path = root / ("new" if spec.new else "cur") / name
        path.write_bytes(message_bytes(spec))
        stamp = BASE_TIME + spec.mtime
        os.utime(path, (stamp, stamp))
        uidlist.append(f"{uid_of(seq)} :{base}")
    (root / "dovecot-uidlist").write_text("\n".join(uidlist) + "\n")
    (root / "dovecot-keywords").write_text("".join(f"{i} {k}\n" for i, k in enumerate(KEYWORDS)))
