"""The ``dovecot`` command (also ``python -m pydovecot``).

``--version``, ``-n``/``-a`` (the configuration, exactly as ``doveconf -n``/``-a`` prints it,
like real ``dovecot -n``), ``--help``, ``--hostdomain``; with no command it starts the master
(``-F``: in the foreground), ``stop`` and ``reload`` signal a running one (pydovecot.master.cli).
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
        if e.opt and len(e.opt) > 1 and "requires argument" not in e.msg:
            # dovecot handles long options itself: an unknown one is an "argument"
            sys.stderr.write(f"{USAGE}Fatal: Unknown argument: --{e.opt}\n")
        else:
            sys.stderr.write(f"dovecot: {_glibc_getopt_message(e)}\n{USAGE}")
        return EXIT_FATAL
    config = None
    foreground = False
    for opt, value in opts:
        if opt == "--version":
            sys.stdout.write(f"{DOVECOT_VERSION} (pydovecot {__version__})\n")
            return 0
        if opt == "--help":
            sys.stdout.write(USAGE)
            return 0
        if opt == "-c":
            config = value
        if opt == "-F":
            foreground = True
        if opt == "--hostdomain":
            from pydovecot.master.cli import hostdomain

            sys.stdout.write(f"{hostdomain()}\n")
            return 0
    dump = [opt for opt, _ in opts if opt in ("-n", "-a")]
    if dump:
        from doveconf.cli import main as doveconf_main

        return doveconf_main([*(["-c", config] if config else []), dump[-1]])
    from pydovecot.config import DEFAULT_CONFIG_PATH
    from pydovecot.master.cli import main as master_main

    return master_main(rest[0] if rest else "start", config or DEFAULT_CONFIG_PATH, foreground=foreground)


def _glibc_getopt_message(e: getopt.GetoptError) -> str:
    """The C getopt's wording, which real dovecot prints."""
    long_option = e.opt and len(e.opt) > 1
    if "requires argument" in e.msg:
        return f"option '--{e.opt}' requires an argument" if long_option else \
            f"option requires an argument -- '{e.opt}'"
    if long_option:
        return f"unrecognized option '--{e.opt}'"
    return f"invalid option -- '{e.opt}'"


if __name__ == "__main__":
    sys.exit(main())
