"""Print how many recorded commands our server answers exactly as real Dovecot did.

python -m tests.imap.session.parity
"""

from __future__ import annotations

from .test_session_goldens import GOLDENS, KNOWN_DIFFERENCES, comparable, masked, replay


def main() -> None:
    same = total = 0
    for name in GOLDENS:
        ours = replay(name)
        for (line, reply), (_, expected) in zip(ours, GOLDENS[name], strict=False):
            total += 1
            if comparable(line, reply) == comparable(line, expected):
                same += 1
            elif masked(name, comparable(line, reply)) == masked(name, comparable(line, expected)):
                print(f"modseq numbers only: {name}: {line[:60]!r}")
            else:
                print(f"differs: {name}: {line[:60]!r}", "(known)" if (name, line) in KNOWN_DIFFERENCES else "")
    print(f"{same}/{total} commands answered identically to Dovecot 2.3.19 (greetings included)")


if __name__ == "__main__":
    main()
