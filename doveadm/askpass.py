"""Reading a password the way Dovecot's askpass does.

On a terminal: the prompt goes to stderr, the password is read from /dev/tty with echo
off, and a newline is written after it. Otherwise nothing is printed and one line is
read from stdin (up to "\\n" or "\\r"; end of input gives what was read so far, maybe "").
"""

from __future__ import annotations

import os
import sys
import termios
from typing import IO


def _read_line(fd: int) -> bytes:
    data = bytearray()
    while True:
        char = os.read(fd, 1)
        if not char or char in (b"\n", b"\r"):
            return bytes(data)
        data += char


def askpass(prompt: str, stdin: IO[bytes] | None = None, stderr: IO[str] | None = None) -> bytes:
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stderr = stderr if stderr is not None else sys.stderr
    if not os.isatty(stdin.fileno()):
        return _read_line(stdin.fileno())
    stderr.write(prompt)
    stderr.flush()
    tty = os.open("/dev/tty", os.O_RDONLY)
    try:
        try:
            saved = termios.tcgetattr(tty)
        except termios.error:
            saved = None
        if saved is not None:
            quiet = list(saved)
            quiet[3] &= ~(termios.ECHO | termios.ECHONL)
            termios.tcsetattr(tty, termios.TCSAFLUSH, quiet)
        try:
            return _read_line(tty)
        finally:
            if saved is not None:
                termios.tcsetattr(tty, termios.TCSAFLUSH, saved)
            stderr.write("\n")
            stderr.flush()
    finally:
        os.close(tty)
