"""doveconf: print or check a configuration tree, with doveconf 2.3's options and output.

  doveconf [-adnNPSx] [-c FILE] [-f FILTER=VALUE]... [-m MODULE] [-h] [NAME...]

Beyond Dovecot: ``--check`` reports every error of the tree in one run (see check.py).
"""

from __future__ import annotations

import getopt
import os
import sys

EXIT_FATAL = 89  # Dovecot's FATAL_DEFAULT, what doveconf exits with on any fatal error
OPTIONS = "adf:hHm:nNpPexSc:i:ko:OL"
DEFAULT_CONFIG = "/etc/dovecot/dovecot.conf"


class Fatal(Exception):
    pass


def _version_line(path: str) -> str:
    from pydovecot import DOVECOT_VERSION, __version__

    return f"# {DOVECOT_VERSION} (pydovecot {__version__}): {path}\n"


def _sysinfo_lines() -> str:
    uname = os.uname()
    distro = ""
    try:
        with open("/etc/os-release") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        name = fields.get("NAME", "").strip('"').split(" ")[0]
        version = fields.get("VERSION_ID", "").strip('"')
        distro = f" {name} {version}".rstrip()
    except OSError:
        pass
    return f"# OS: {uname.sysname} {uname.release} {uname.machine}{distro} \n# Hostname: {uname.nodename}\n"


def _parse_filter(arg: str):  # type: ignore[no-untyped-def]
    from pydovecot.config.build import parse_net
    from pydovecot.config.values import ValueError_

    key, _, value = arg.partition("=")
    try:
        if key in ("service", "protocol"):
            return {"service": value}
        if key == "lname":
            return {"local_name": value}
        if key == "local":
            return {"local": parse_net(value)}
        if key == "remote":
            return {"remote": parse_net(value)}
    except ValueError_ as e:
        raise Fatal(f"{key} filter: {e}") from None
    raise Fatal(f"Unknown filter argument: {arg}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Configuration bytes that are not UTF-8 are carried as surrogates: write them back
    # as the same bytes, like Dovecot, which never decodes them.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    out = sys.stdout
    try:
        return _run(args, out)
    except Fatal as e:
        out.flush()
        sys.stderr.write(f"doveconf: Fatal: {e}\n")
        return EXIT_FATAL
    except BrokenPipeError:
        return 0


def _run(args: list[str], out) -> int:  # type: ignore[no-untyped-def]
    try:
        opts, names = getopt.gnu_getopt(args, OPTIONS, ["check"])
    except getopt.GetoptError as e:
        if "requires argument" in e.msg:
            sys.stderr.write(f"doveconf: option requires an argument -- '{e.opt}'\n")
        else:
            sys.stderr.write(f"doveconf: invalid option -- '{e.opt}'\n")
        return EXIT_FATAL
    config_path = os.environ.get("DOVECOT_CONFIG", DEFAULT_CONFIG)
    scope = "all"
    filter_args: dict[str, object] = {}
    modules: list[str] = []
    hide_key = hide_passwords_off = expand = simple = defaults_only = check_all = False
    for opt, value in opts:
        if opt == "-c":
            config_path = value
        elif opt == "-n":
            scope = "changed"
        elif opt == "-N":
            scope = "set"
        elif opt == "-a":
            pass
        elif opt == "-h":
            hide_key = True
        elif opt == "-P":
            hide_passwords_off = True
        elif opt in ("-x", "-e"):
            expand = True
        elif opt == "-S":
            simple = True
        elif opt == "-d":
            defaults_only = True
        elif opt == "-m":
            modules.append(value)
        elif opt == "-f":
            filter_args.update(_parse_filter(value))
        elif opt == "--check":
            check_all = True
    if check_all:
        from doveconf.check import run_check

        return run_check(config_path, out)

    from pydovecot.config.errors import ConfigError
    from pydovecot.config.tree import Filter

    wanted = Filter(**filter_args)  # type: ignore[arg-type]
    if not names and not simple:
        out.write(_version_line(config_path))
        out.flush()
    warnings: list[str] = []

    def warn(message: str) -> None:
        out.flush()
        sys.stderr.write(f"doveconf: Warning: {message}\n")
        sys.stderr.flush()

    def error(message: str) -> None:
        out.flush()
        sys.stderr.write(f"doveconf: Error: {message}\n")
        sys.stderr.flush()

    try:
        tree = _load(config_path, defaults_only, expand, warn, error)
    except ConfigError as e:
        raise Fatal(str(e)) from None
    del warnings
    hide_passwords = not hide_passwords_off
    from pydovecot.config.merge import ConflictError

    try:
        if not names and not simple:
            _check_wrong_config(tree, config_path, warn)
        return _output(tree, names, scope, wanted, simple, hide_key, hide_passwords, modules, out)
    except ConflictError as e:
        out.flush()
        sys.stderr.write(f"doveconf: Error: {e}\n")
        raise Fatal("Errors in configuration") from None


def _output(tree, names, scope, wanted, simple, hide_key, hide_passwords, modules, out) -> int:  # type: ignore[no-untyped-def]
    from pydovecot.config.dump import dump_human

    if simple:
        from pydovecot.config.simple import dump_simple

        for line in dump_simple(tree, scope, wanted, names):
            out.write(line)
        return 0
    if names:
        for name in names:
            _dump_one(tree, wanted, scope, name, hide_key, hide_passwords, out)
        return 0
    out.write(_sysinfo_lines())
    if scope == "all":
        out.write("# NOTE: Send doveconf -n output instead when asking for help.\n")
    for chunk in dump_human(tree, scope, wanted, hide_passwords=hide_passwords, modules=modules or None):
        out.write(chunk)
    if tree.fatal:
        raise Fatal(f"Error in configuration file {tree.path}: {tree.fatal}")
    if tree.errors:
        out.flush()
        for error in tree.errors:
            sys.stderr.write(f"doveconf: Error: {error}\n")
        raise Fatal(f"Error in configuration file {tree.path}: {tree.errors[0]}")
    return 0


def _check_wrong_config(tree, config_path: str, warn) -> None:  # type: ignore[no-untyped-def]
    """Like doveconf: warn when the running Dovecot was started with another config file
    (the master leaves a dovecot.conf symlink in base_dir)."""
    link = os.path.join(str(tree.global_scope.root.get("base_dir")), "dovecot.conf")
    try:
        previous = os.readlink(link)
    except OSError:
        return
    if previous != config_path:
        warn(f"Dovecot was last started using {previous}, but this config is {config_path}")


def _load(path: str, defaults_only: bool, expand: bool, warn, error):  # type: ignore[no-untyped-def]
    from pydovecot.config import load

    if defaults_only:
        return load("/dev/null", expand_values=expand, warn=warn, error=error)
    return load(path, expand_values=expand, warn=warn, error=error)


def _dump_one(tree, wanted, scope, name, hide_key, hide_passwords, out) -> None:  # type: ignore[no-untyped-def]
    from pydovecot.config.dump import dump_human, find_value, setting_exists

    value = find_value(tree, wanted, name, scope)
    if value is not None:
        out.write(f"{value}\n" if hide_key else f"{name} = {value}\n")
        return
    if setting_exists(name):
        for chunk in dump_human(tree, scope, wanted, hide_passwords=hide_passwords, name_filter=name):
            out.write(chunk)


if __name__ == "__main__":
    sys.exit(main())
