"""Record real Dovecot's answers to the SEARCH/SORT/THREAD commands below on the corpus.

Run: `.venv/bin/python -m tests.storage.search.record_goldens` (needs /usr/lib/dovecot/imap).
Writes goldens/session.json: one session, commands in order (SEARCHRES `$` depends on order).
The first command fetches index state our Maildir reader cannot know (MODSEQ, \\Recent).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.storage.search.oracle import run_session

GOLDEN = Path(__file__).parent / "goldens" / "session.json"
STATE_FETCH = "FETCH 1:* (UID FLAGS MODSEQ RFC822.SIZE INTERNALDATE)"

_SEARCH = """ALL
1:5
2,4,*
*:55
UID 1:10
UID 5:9
UID *
UID 60:*
NOT UID 20:80
SEEN
UNSEEN
ANSWERED
UNANSWERED
FLAGGED
UNFLAGGED
DELETED
UNDELETED
DRAFT
UNDRAFT
RECENT
NEW
OLD
KEYWORD $Forwarded
KEYWORD junk
KEYWORD todo
KEYWORD nosuch
UNKEYWORD Junk
UNKEYWORD nosuch
FROM alice
FROM "Alice Example"
FROM example.com
FROM "bob@example.org"
FROM jürgen
FROM JÜRGEN
FROM müller
FROM françois
FROM "Smith, John"
FROM mary
FROM ǅuro
FROM dzuro
FROM "Quoted \\"Name\\""
FROM "Aaron Comment"
FROM ZACK
FROM ""
TO bob
TO undisclosed
TO Team
TO zed
TO Friends
TO åsa
TO ÅSA
TO bare
CC dave
CC "Cee Cee"
CC undisclosed
BCC hidden
BCC nobody
SUBJECT plan
SUBJECT "project plan"
SUBJECT "Re: Project"
SUBJECT "Große"
SUBJECT "grosse"
SUBJECT "GROSSE"
SUBJECT "café"
SUBJECT "CAFÉ"
SUBJECT "cafe"
SUBJECT "réunion demain"
SUBJECT "Réunion demain"
SUBJECT ǆungla
SUBJECT Ǆungla
SUBJECT dzungla
SUBJECT ß
SUBJECT привет
SUBJECT ПРИВЕТ
SUBJECT "is folded"
SUBJECT "folded over"
SUBJECT "over two"
SUBJECT "over\ttwo"
SUBJECT ""
SUBJECT "weekly   report"
SUBJECT "weekly report"
SUBJECT fwd
HEADER Subject plan
HEADER X-Custom "some value"
HEADER X-Custom ""
HEADER X-Empty ""
HEADER X-Nothere ""
HEADER Message-ID dup@
HEADER In-Reply-To dup
HEADER References t1@example.com
HEADER X-Folded "one part"
HEADER X-Folded "one  part"
HEADER From "Jürgen"
HEADER From "=?UTF-8?Q?"
HEADER To ";"
HEADER Date "+1400"
BODY plan
BODY "Straße"
BODY strasse
BODY STRASSE
BODY ñandú
BODY ǆungla
BODY "résumé très"
BODY "suivante sans"
BODY "été"
BODY bold
BODY "<b>"
BODY secretpayload
BODY ümlaut
BODY inner
BODY "inner subject"
BODY preamble
BODY epilogue
BODY grüße
BODY istanbul
BODY "İstanbul"
BODY ångström
BODY fine
BODY ﬁne
BODY мир
BODY "Subject"
BODY "lorem ipsum dolor sit amet lorem"
BODY ""
TEXT plan
TEXT "Message-ID"
TEXT "x-custom: some"
TEXT custom
TEXT jürgen
TEXT "=?UTF-8?"
TEXT straße
TEXT secretpayload
TEXT "From:"
TEXT "mixed case body"
LARGER 200
LARGER 8245
LARGER 8246
SMALLER 100
SMALLER 123
SMALLER 124
BEFORE 18-Nov-2023
ON 18-Nov-2023
SINCE 18-Nov-2023
ON 4-Dec-2023
BEFORE 1-Jan-2000
SINCE 1-Jan-2030
SENTBEFORE 16-Nov-2023
SENTON 16-Nov-2023
SENTSINCE 1-Dec-2023
SENTON 14-Nov-2023
SENTON 15-Nov-2023
SENTON 20-Nov-2023
SENTON 21-Nov-2023
SENTON 17-Nov-2023
SENTON 2-Dec-2023
SENTON 3-Dec-2023
SENTBEFORE 1-Jan-1971
SENTSINCE 1-Jan-1970
SENTON 1-Jan-1970
OLDER 1
YOUNGER 1
OLDER 1000000000
SAVEDBEFORE 1-Jan-2000
SAVEDSINCE 1-Jan-2000
SAVEDATESUPPORTED
MODSEQ 1
MODSEQ 5
MODSEQ 6
OR SEEN FLAGGED
OR FROM alice TO alice
NOT SEEN
NOT NOT SEEN
(SEEN FLAGGED)
(OR ANSWERED DRAFT) NOT DELETED
OR (SEEN FROM bob) (NOT SEEN FROM alice)
OR OR 1 2 3
1:10 SEEN
UID 1:40 NOT FROM example.org
CHARSET UTF-8 SUBJECT café
CHARSET US-ASCII SUBJECT plan
CHARSET ISO-8859-1 SUBJECT plan
CHARSET BOGUS ALL
CHARSET BOGUS SUBJECT plan
RETURN (SAVE) FROM alice
$
OR $ SEEN
NOT $
RETURN (SAVE) UID 1:10
$ FLAGGED
UID 200:300
UID 103:*
UID 102:105
61
*:100
71:72
LARGER 0
SMALLER 0
FROM routed
FROM relay
FROM "@relay"
FROM "@example.com"
FROM admins
FROM "Admins: root"
FROM ops
TO justuser
TO MISSING_DOMAIN
TO "justuser@"
CC ""
SUBJECT "blob only"
SUBJECT "hello there"
SUBJECT "hellothere"
SUBJECT "x-unknown"
SUBJECT abc
SUBJECT "there abc"
SUBJECT "=?x-unknown"
SUBJECT "abcé"
SUBJECT "abc é"
BODY naïve
BODY "unknown charset"
BODY multipart
BODY "caf&eacute;"
BODY digestbodyone
BODY digestbodytwo
BODY "digest part one"
TEXT "digest part one"
TEXT digestbodyone
HEADER Subject "fwd:fwd:"
HEADER Cc ""
SENTON 7-Dec-2023
SENTON 8-Dec-2023
SENTBEFORE 8-Dec-2023
OR SENTON 10-Dec-2023 SENTON 11-Dec-2023
NOT OR SEEN UNSEEN
(1:5 OR 2 70) (NOT 3)
BODY "sixteen bit"
BODY "flowed line"
BODY "line wrapped"
BODY vcardword
BODY dsnword
TEXT dsnword
TEXT "Reporting-MTA"
FROM weird
FROM Weird
FROM "Folded From"
FROM "Second Person"
FROM "ff@example.com>, Second"
TO émile
TO ÉMILE
SUBJECT Zzz
SUBJECT tail
SUBJECT "Euro €"
BODY "“quotes”"
BODY "€uro"
HEADER X-Tab "tabbed value"
HEADER X-Tab "tabbed	value"
HEADER X-Tab tabbed
FROM "john@example.com>, <mary"
FROM "<john@example.com>"
FROM "John <john"
FROM "com>,"
FROM " "
FROM "Folded From <ff"
TO "Team: <ann"
TO "Team: ann"
TO "zed@example.com>;"
FROM "Alice Example <alice@example.com>"
FROM "\\"Alice Example\\" <alice@example.com>"
FROM "first.last"
"""

_SORT = """(ARRIVAL)
(REVERSE ARRIVAL)
(DATE)
(REVERSE DATE)
(SIZE)
(REVERSE SIZE)
(SUBJECT)
(REVERSE SUBJECT)
(FROM)
(REVERSE FROM)
(TO)
(CC)
(DISPLAYFROM)
(DISPLAYTO)
(REVERSE DISPLAYFROM)
(SUBJECT DATE)
(FROM SUBJECT)
(CC REVERSE DATE)
(DATE) SEEN
(SUBJECT) FROM example.com
(SIZE) 10:30
(DISPLAYTO REVERSE SIZE)
(REVERSE SUBJECT REVERSE DATE)
(DISPLAYFROM) 60:*
(DATE) 60:*
(CC DISPLAYTO) 60:*
(SUBJECT) 60:*
(DISPLAYFROM REVERSE DATE) 60:*
(FROM) 60:*
(DISPLAYTO) 70:*
"""

_THREAD = """ORDEREDSUBJECT
REFERENCES
REFS
ORDEREDSUBJECT SEEN
REFERENCES SEEN
REFS SEEN
REFERENCES 1:20
REFS UNSEEN
REFERENCES FROM xavier
REFS SUBJECT "Fresh delivery"
REFERENCES 60:*
REFERENCES SUBJECT same
REFERENCES SUBJECT weekly
REFERENCES OR SUBJECT deep SUBJECT plan
REFS OR SUBJECT deep SUBJECT plan
ORDEREDSUBJECT 60:*
REFERENCES NOT 1:20
REFS NOT 1:20
REFERENCES 1,3,6,60,63
REFS 1,3,6,60,63
REFERENCES 40,41,42,61
REFERENCES 73:*
REFS 73:*
ORDEREDSUBJECT 73:*
REFERENCES 73,75,84
REFERENCES 76:79
REFS 76:79
REFERENCES SUBJECT placeholder
"""


def _quote_8bit(line: str) -> str:
    """Dovecot refuses 8-bit atoms; a quoted string may hold UTF-8."""
    if '"' in line:
        return line
    return re.sub(r'(?<![\S"])([^\s"()]*[^\x00-\x7f][^\s"()]*)', r'"\1"', line)


def commands() -> list[str]:
    out = [STATE_FETCH]
    for line in map(_quote_8bit, _SEARCH.splitlines()):
        out.append(f"SEARCH {line}")
    for line in map(_quote_8bit, _SEARCH.splitlines()[:40]):
        if not line.startswith(("RETURN", "$", "OR $", "NOT $")):
            out.append(f"UID SEARCH {line}")
    for line in _SORT.splitlines():
        keys, _, rest = line.partition(") ")
        out.append(f"SORT {keys if rest else line[:-1]}) UTF-8 {rest or 'ALL'}")
    out.append("UID SORT (SUBJECT) UTF-8 ALL")
    out.append("UID SORT (REVERSE DATE) UTF-8 UID 20:90")
    for line in _THREAD.splitlines():
        algorithm, _, rest = line.partition(" ")
        out.append(f"THREAD {algorithm} UTF-8 {rest or 'ALL'}")
    out.append("UID THREAD REFERENCES UTF-8 ALL")
    out.append("UID THREAD REFS UTF-8 ALL")
    out.append("SORT (SUBJECT) BOGUS ALL")
    out.append("THREAD REFERENCES BOGUS ALL")
    return out


# INTERNALDATE and SAVEDATE days are the server's local days: replayed with a far-east zone.
TZ_NAME = "Pacific/Kiritimati"
TZ_GOLDEN = Path(__file__).parent / "goldens" / "session_tz.json"
_TZ_SEARCH = """BEFORE 18-Nov-2023
ON 18-Nov-2023
SINCE 18-Nov-2023
ON 4-Dec-2023
ON 5-Dec-2023
SENTON 16-Nov-2023
SENTON 15-Nov-2023
OR ON 1-Dec-2023 ON 2-Dec-2023
"""


def tz_commands() -> list[str]:
    return [STATE_FETCH, *(f"SEARCH {line}" for line in _TZ_SEARCH.splitlines())]


def main() -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    for path, cmds, tz in ((GOLDEN, commands(), "UTC"), (TZ_GOLDEN, tz_commands(), TZ_NAME)):
        results = run_session(cmds, tz=tz)
        path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded {len(results)} commands into {path}")


if __name__ == "__main__":
    main()
