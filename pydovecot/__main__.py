"""The ``dovecot`` command (also ``python -m pydovecot``).

Implemented so far: ``--version``, ``-n``/``-a`` (the configuration, exactly as
``doveconf -n``/``-a`` prints it, like real ``dovecot -n``) and ``--help``.  Starting the
server (``-F``, or no arguments) needs the master process, which does not exist yet: the
command says so and exits non-zero rather than pretending to run.
"""

from __future__ import annotations

import getopt
import sys

USAGE = (
    "Usage: dovecot [-F] [-c <config file>] [-p] [-n] [-a] [--help] [--version]\n"
    "       [--build-options] [--hostdomain] [reload] [stop]\n"
)
EXIT_FATAL = 89


def main(argv: list[str] | None = None) -> int:
    from pydovecot import DOVECOT_VERSION, __version__

    args = sys.argv[1:] if argv is None else argv
    try:
        opts, rest = getopt.gnu_getopt(args, "Fc:pna", ["help", "version", "build-options", "hostdomain"])
    except getopt.GetoptError as e:
        sys.stderr.write(f"dovecot: {e.msg}\n{USAGE}")
        return EXIT_FATAL
    config = None
    for opt, value in opts:
        if opt == "--version":
            sys.stdout.write(f"{DOVECOT_VERSION} (pydovecot {__version__})\n")
            return 0
        if opt == "--help":
            sys.stdout.write(USAGE)
            return 0
        if opt == "-c":
            config = value
    dump = [opt for opt, _ in opts if opt in ("-n", "-a")]
    if dump:
        from doveconf.cli import main as doveconf_main

        return doveconf_main([*(["-c", config] if config else []), dump[-1]])
    command = rest[0] if rest else "start"
    sys.stderr.write(
        f"dovecot: Fatal: '{command}' needs the pydovecot master process, which is not implemented yet\n")
    return EXIT_FATAL


if __name__ == "__main__":
    sys.exit(main())
