"""doveconf: print or check a configuration tree, with doveconf 2.3's options and output.

  doveconf [-adnNPSx] [-c FILE] [-f FILTER=VALUE]... [-m MODULE] [-h] [NAME...]

Beyond Dovecot: ``--check`` reports every error of the tree in one run (see check.py), and
answers are cached while the tree does not change (see cache.py).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs more than a cached answer
if TYPE_CHECKING:
    from typing import TextIO

EXIT_FATAL = 89  # Dovecot's FATAL_DEFAULT, what doveconf exits with on any fatal error
OPTIONS = "adf:hHm:nNpPexSc:i:ko:OL"
DEFAULT_CONFIG = "/etc/dovecot/dovecot.conf"


class Fatal(Exception):
    pass


def version_line(path: str) -> str:
    from pydovecot import DOVECOT_VERSION, __version__

    return f"# {DOVECOT_VERSION} (pydovecot {__version__}): {path}\n"


def sysinfo_lines() -> str:
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


def wrong_config_warning(base_dir: str, config_path: str) -> str:
    """Like doveconf: a warning when the running Dovecot was started with another config
    file (its master leaves a dovecot.conf symlink in base_dir)."""
    try:
        previous = os.readlink(os.path.join(base_dir, "dovecot.conf"))
    except OSError:
        return ""
    if previous == config_path:
        return ""
    return f"doveconf: Warning: Dovecot was last started using {previous}, but this config is {config_path}\n"


class Output:
    """stdout and stderr, with everything written recorded for the answer cache.  The
    parts that depend on the moment are recorded as markers and made again on replay."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.stdout, self.stderr = out, err
        self.events: list[list[object]] = []

    def out(self, text: str) -> None:
        self.stdout.write(text)
        self._record("o", text)

    def err(self, text: str) -> None:
        self.stdout.flush()
        self.stderr.write(text)
        self.stderr.flush()
        self._record("e", text)

    def _record(self, kind: str, text: str) -> None:
        if self.events and self.events[-1][0] == kind:
            self.events[-1][1] = str(self.events[-1][1]) + text
        else:
            self.events.append([kind, text])

    def marker(self, kind: str, *args: str) -> None:
        self.events.append([kind, *args])
        self.replay_marker(kind, *args)

    def replay_marker(self, kind: str, *args: str) -> None:
        if kind == "version":
            self.stdout.write(version_line(args[0]))
            self.stdout.flush()
        elif kind == "sysinfo":
            self.stdout.write(sysinfo_lines())
        elif kind == "wrong_config":
            warning = wrong_config_warning(args[0], args[1])
            if warning:
                self.stdout.flush()
                self.stderr.write(warning)

    def replay(self, events: list[list[object]]) -> None:
        for event in events:
            kind = str(event[0])
            if kind == "o":
                self.stdout.write(str(event[1]))
            elif kind == "e":
                self.stdout.flush()
                self.stderr.write(str(event[1]))
            else:
                self.replay_marker(kind, *(str(a) for a in event[1:]))


class Request:
    """What was asked on the command line.  (A plain class: importing dataclasses would
    cost more than a cached answer takes.)"""

    def __init__(self, config_path: str, names: list[str]) -> None:
        self.config_path = config_path
        self.names = names
        self.scope = "all"
        self.filter_args: dict[str, object] = {}
        self.modules: list[str] = []
        self.hide_key = self.show_passwords = self.expand = False
        self.simple = self.defaults_only = self.check_all = False


def _parse_filter(arg: str) -> dict[str, object]:
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


def parse_args(args: list[str]) -> Request:
    from doveconf.options import gnu_getopt

    opts, names = gnu_getopt(args, OPTIONS, ("check",))
    req = Request(config_path=os.environ.get("DOVECOT_CONFIG", DEFAULT_CONFIG), names=names)
    flags = {"-h": "hide_key", "-P": "show_passwords", "-x": "expand", "-e": "expand", "-S": "simple",
             "-d": "defaults_only", "--check": "check_all"}
    for opt, value in opts:
        if opt == "-c":
            req.config_path = value
        elif opt == "-n":
            req.scope = "changed"
        elif opt == "-N":
            req.scope = "set"
        elif opt == "-m":
            req.modules.append(value)
        elif opt == "-f":
            req.filter_args.update(_parse_filter(value))
        elif opt in flags:
            setattr(req, flags[opt], True)
    return req


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Configuration bytes that are not UTF-8 are carried as surrogates: write them back
    # as the same bytes, like Dovecot, which never decodes them.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    output = Output(sys.stdout, sys.stderr)
    try:
        return _run(args, output)
    except BrokenPipeError:
        return 0


def _run(args: list[str], output: Output) -> int:
    from doveconf.options import OptionError

    try:
        req = parse_args(args)
    except OptionError as e:
        output.err(f"doveconf: {e}\n")
        return EXIT_FATAL
    except Fatal as e:
        output.err(f"doveconf: Fatal: {e}\n")
        return EXIT_FATAL
    if req.check_all:
        from doveconf.check import run_check

        return run_check(req.config_path, output.stdout)
    if req.expand:
        return _answer(req, output, None)
    from doveconf import cache

    key = cache.make_key(args, req.config_path)
    events = cache.load(key)
    if events is not None:
        output.replay(events[:-1])
        return int(str(events[-1][1]))
    deps: list[list[object]] = []
    code = _answer(req, output, deps)
    cache.store(key, deps, [*output.events, ["rc", str(code)]])
    return code


def _answer(req: Request, output: Output, deps: list[list[object]] | None) -> int:
    try:
        return _dump(req, output, deps)
    except Fatal as e:
        output.err(f"doveconf: Fatal: {e}\n")
        return EXIT_FATAL


def _dump(req: Request, output: Output, deps: list[list[object]] | None) -> int:
    from pydovecot.config import load
    from pydovecot.config.errors import ConfigError
    from pydovecot.config.merge import ConflictError
    from pydovecot.config.tree import Filter

    if not req.names and not req.simple:
        output.marker("version", req.config_path)
    path = "/dev/null" if req.defaults_only else req.config_path
    try:
        tree = load(path, expand_values=req.expand, deps=deps,
                    warn=lambda m: output.err(f"doveconf: Warning: {m}\n"),
                    error=lambda m: output.err(f"doveconf: Error: {m}\n"))
    except ConfigError as e:
        raise Fatal(str(e)) from None
    wanted = Filter(**req.filter_args)  # type: ignore[arg-type]
    try:
        _print(tree, req, wanted, output)
    except ConflictError as e:
        output.err(f"doveconf: Error: {e}\n")
        raise Fatal("Errors in configuration") from None
    return 0


def _print(tree, req: Request, wanted, output: Output) -> None:  # type: ignore[no-untyped-def]
    from pydovecot.config.dump import dump_human, find_value, setting_exists

    hide_passwords = not req.show_passwords
    if req.simple:
        from pydovecot.config.simple import dump_simple

        for line in dump_simple(tree, req.scope, wanted, req.names):
            output.out(line)
        return
    if req.names:
        for name in req.names:
            value = find_value(tree, wanted, name, req.scope)
            if value is not None:
                output.out(f"{value}\n" if req.hide_key else f"{name} = {value}\n")
            elif setting_exists(name):
                for chunk in dump_human(tree, req.scope, wanted, hide_passwords=hide_passwords, name_filter=name):
                    output.out(chunk)
        return
    output.marker("sysinfo")
    output.marker("wrong_config", str(tree.global_scope.root.get("base_dir")), req.config_path)
    if req.scope == "all":
        output.out("# NOTE: Send doveconf -n output instead when asking for help.\n")
    for chunk in dump_human(tree, req.scope, wanted, hide_passwords=hide_passwords,
                            modules=req.modules or None):
        output.out(chunk)
    if tree.fatal:
        raise Fatal(f"Error in configuration file {tree.path}: {tree.fatal}")
    if tree.errors:
        for error in tree.errors:
            output.err(f"doveconf: Error: {error}\n")
        raise Fatal(f"Error in configuration file {tree.path}: {tree.errors[0]}")


if __name__ == "__main__":
    sys.exit(main())
