"""Record golden outputs of the real doveconf 2.3.19 for the configuration test cases.

Usage (from anywhere)::

    python tests/config/record_goldens.py            # every case, every external tree, the bad inputs
    python tests/config/record_goldens.py CASE...    # only these (case names, external tree names or bad-input names)

Each case is a directory ``cases/<case>/`` holding an entry file ``dovecot.conf`` (plus whatever it
includes) and an optional ``commands`` file: one doveconf argument list per line, split like a shell
would (``shlex``); blank lines and lines starting with ``#`` are ignored; without the file the case
runs ``-n`` only. Real doveconf runs with cwd = the tree's directory and ``-c dovecot.conf`` (a
relative path, so no golden holds an absolute path), in the fixed environment of ``doveconf_env()``.

For every run ``goldens/<case>/<slug>.out|.err|.rc`` store the raw stdout and stderr bytes and the
exit code, and ``goldens/<case>/manifest.json`` lists the runs, so the tests need nothing else.
Re-running is deterministic: a case's golden directory is rewritten from scratch.

The same module declares the generated bad inputs (``BAD_INPUTS``) that test_bad_input.py builds at
test time; their goldens live under ``goldens/bad-input/<name>.*``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASES_DIR = HERE / "cases"
GOLDENS_DIR = HERE / "goldens"
BAD_INPUT_GOLDENS = GOLDENS_DIR / "bad-input"
REAL_DOVECONF = Path("/usr/bin/doveconf")
ENTRY_FILE = "dovecot.conf"
DEFAULT_COMMANDS: tuple[tuple[str, ...], ...] = (("-n",),)

# Configuration trees that live elsewhere in the repository, recorded like the cases.
EXTERNAL_TREES: dict[str, Path] = {
    "root-tree": REPO / "dovecot.conf",
    "example-seed": REPO / "examples" / "seed" / "dovecot.conf",
    "example-quickstart": REPO / "examples" / "quickstart" / "dovecot.conf",
}
EXTERNAL_COMMANDS: tuple[tuple[str, ...], ...] = (("-n",), ("-a",), ("-P", "-n"))

# `$ENV:NAME` values are expanded from doveconf's environment, so the environment is pinned.
GOLDEN_ENV_VAR = "PYDOVECOT_GOLDEN_VAR"
GOLDEN_ENV_VALUE = "golden-env-value"

HEADER_PREFIX = b"# "


def doveconf_env() -> dict[str, str]:
    """The environment every doveconf (real or ours) runs in for golden comparisons."""
    env = {
        key: value
        for key, value in os.environ.items()
        # Variables that steer doveconf or the locale of its messages must not leak in.
        if not key.startswith(("DOVECOT", "DOVECONF", "PYDOVECOT_GOLDEN"))
        and key not in ("CONFIG_FILE", "LANGUAGE")
        and not key.startswith("LC_")
    }
    env["LANG"] = "C"
    env["LC_ALL"] = "C"
    env[GOLDEN_ENV_VAR] = GOLDEN_ENV_VALUE
    return env


def strip_header(stdout: bytes) -> bytes:
    """Drop the leading run of `# ` lines (version, Pigeonhole, OS, Hostname, NOTE) from stdout."""
    lines = stdout.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index].startswith(HEADER_PREFIX):
        index += 1
    return b"".join(lines[index:])


def slug_for(args: tuple[str, ...] | list[str]) -> str:
    """A file-name-safe, readable name for one argument list: ('-f', 'protocol=imap', '-n') -> f_protocol-imap_n."""
    parts = [re.sub(r"[^A-Za-z0-9_.-]+", "-", arg.lstrip("-")) or "arg" for arg in args]
    return "_".join(parts) or "no-args"


def parse_commands(text: str) -> list[tuple[str, ...]]:
    commands: list[tuple[str, ...]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        commands.append(tuple(shlex.split(stripped)))
    return commands


@dataclass(frozen=True)
class Tree:
    """One configuration tree to record: its golden name, directory and the doveconf runs."""

    name: str
    directory: Path
    commands: tuple[tuple[str, ...], ...]


def case_trees() -> list[Tree]:
    trees = []
    for directory in sorted(p for p in CASES_DIR.iterdir() if p.is_dir()):
        commands_file = directory / "commands"
        commands = (
            parse_commands(commands_file.read_text()) if commands_file.exists() else list(DEFAULT_COMMANDS)
        )
        trees.append(Tree(directory.name, directory, tuple(commands)))
    return trees


def external_trees() -> list[Tree]:
    return [
        Tree(name, entry.parent, EXTERNAL_COMMANDS)
        for name, entry in EXTERNAL_TREES.items()
        if entry.is_file()
    ]


@dataclass(frozen=True)
class RunResult:
    stdout: bytes
    stderr: bytes
    returncode: int


def run_doveconf(
    program: list[str], cwd: Path, args: tuple[str, ...] | list[str], config: str = ENTRY_FILE
) -> RunResult:
    """Run a doveconf (``program`` is the argv prefix) on ``-c config`` with the pinned environment."""
    executable = None
    argv = [*program, "-c", config, *args]
    if Path(program[0]).name == "doveconf":
        # getopt's messages start with argv[0]; name the binary "doveconf" as a shell user would.
        executable, argv[0] = program[0], "doveconf"
    proc = subprocess.run(
        argv,
        executable=executable,
        cwd=cwd,
        env=doveconf_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=300,
    )
    return RunResult(proc.stdout, proc.stderr, proc.returncode)


def write_golden(directory: Path, slug: str, result: RunResult) -> None:
    (directory / f"{slug}.out").write_bytes(result.stdout)
    (directory / f"{slug}.err").write_bytes(result.stderr)
    (directory / f"{slug}.rc").write_text(f"{result.returncode}\n")


def record_tree(tree: Tree) -> int:
    golden_dir = GOLDENS_DIR / tree.name
    if golden_dir.exists():
        shutil.rmtree(golden_dir)
    golden_dir.mkdir(parents=True)
    runs = []
    seen: set[str] = set()
    for args in tree.commands:
        slug = slug_for(args)
        if slug in seen:
            raise SystemExit(f"{tree.name}: two command lines map to the golden name {slug!r}")
        seen.add(slug)
        write_golden(golden_dir, slug, run_doveconf([str(REAL_DOVECONF)], tree.directory, args))
        runs.append({"slug": slug, "args": list(args)})
    manifest = {
        "tree": tree.directory.relative_to(REPO).as_posix() or ".",
        "config": ENTRY_FILE,
        "runs": runs,
    }
    (golden_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return len(runs)


# ---------------------------------------------------------------------------------------------
# Bad inputs: generated into a scratch directory at test time (nothing big is committed).
# Each builder writes its files into `directory` and returns the value to pass to `-c`.

BIG_FILE_BYTES = 100 * 1024 * 1024


def _unreadable_symlink_loop(directory: Path) -> str:
    # We run as root, so chmod 000 does not stop reads; a symlink loop makes open() fail (ELOOP).
    (directory / "loop-a.conf").symlink_to("loop-b.conf")
    (directory / "loop-b.conf").symlink_to("loop-a.conf")
    return "loop-a.conf"


def _unreadable_not_a_directory(directory: Path) -> str:
    (directory / "plain-file").write_text("mail_location = x\n")
    return "plain-file/dovecot.conf"


def _missing_file(directory: Path) -> str:
    return "does-not-exist.conf"


def _directory_as_config(directory: Path) -> str:
    (directory / "conf-dir").mkdir()
    (directory / "conf-dir" / "dovecot.conf").write_text("mail_location = x\n")
    return "conf-dir"


def _binary_file(directory: Path) -> str:
    # Deterministic pseudo-binary content: an ELF-like header, NULs and high bytes.
    data = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8 + b"\n\x00\xff\xfe{}=#\n"
    (directory / "binary.conf").write_bytes(data)
    return "binary.conf"


def _big_file(directory: Path) -> str:
    # 100 MB of comment lines, then one real setting: the whole file has to be read.
    line = b"# " + b"x" * 1021 + b"\n"
    with open(directory / "big.conf", "wb") as handle:
        block = line * 1024
        for _ in range(BIG_FILE_BYTES // len(block)):
            handle.write(block)
        handle.write(b"mail_location = maildir:~/after-100MB\n")
    return "big.conf"


def _include_loop(directory: Path) -> str:
    (directory / "a.conf").write_text("mail_location = x\n!include b.conf\n")
    (directory / "b.conf").write_text("!include c.conf\n")
    (directory / "c.conf").write_text("!include a.conf\n")
    return "a.conf"


def _deep_protocol_nesting(directory: Path) -> str:
    depth = 10_000
    (directory / "deep.conf").write_text("protocol imap {\n" * depth + "}\n" * depth)
    return "deep.conf"


def _deep_local_nesting(directory: Path) -> str:
    # Nested local blocks are legal; 10,000 of them must not exhaust a recursion limit.
    depth = 10_000
    (directory / "deep.conf").write_text("local 10.0.0.1 {\n" * depth + "}\n" * depth)
    return "deep.conf"


def _deep_plugin_nesting(directory: Path) -> str:
    depth = 10_000
    (directory / "deep.conf").write_text("plugin {\n" * depth + "}\n" * depth)
    return "deep.conf"


def _invalid_utf8_value(directory: Path) -> str:
    (directory / "utf8.conf").write_bytes(
        b"mail_location = maildir:~/\xff\xfe\xc3(\n login_greeting = caf\xe9\n"
    )
    return "utf8.conf"


def _invalid_utf8_key(directory: Path) -> str:
    (directory / "utf8.conf").write_bytes(b"mail_loc\xffation = maildir:~/Maildir\n")
    return "utf8.conf"


def _nul_in_value(directory: Path) -> str:
    (directory / "nul.conf").write_bytes(b"mail_location = maildir:~/a\x00b\nauth_mechanisms = plain login\n")
    return "nul.conf"


def _nul_in_key(directory: Path) -> str:
    (directory / "nul.conf").write_bytes(b"mail_\x00location = maildir:~/Maildir\n")
    return "nul.conf"


BAD_INPUTS: dict[str, Callable[[Path], str]] = {
    "missing-file": _missing_file,
    "unreadable-symlink-loop": _unreadable_symlink_loop,
    "unreadable-not-a-directory": _unreadable_not_a_directory,
    "directory-as-config": _directory_as_config,
    "binary-file": _binary_file,
    "big-100mb-file": _big_file,
    "include-loop": _include_loop,
    "deep-protocol-nesting": _deep_protocol_nesting,
    "deep-local-nesting": _deep_local_nesting,
    "deep-plugin-nesting": _deep_plugin_nesting,
    "invalid-utf8-value": _invalid_utf8_value,
    "invalid-utf8-key": _invalid_utf8_key,
    "nul-in-value": _nul_in_value,
    "nul-in-key": _nul_in_key,
}
BAD_INPUT_ARGS: tuple[str, ...] = ("-n",)


def record_bad_input(name: str) -> None:
    BAD_INPUT_GOLDENS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doveconf-bad-") as scratch:
        directory = Path(scratch)
        config = BAD_INPUTS[name](directory)
        result = run_doveconf([str(REAL_DOVECONF)], directory, BAD_INPUT_ARGS, config=config)
    write_golden(BAD_INPUT_GOLDENS, name, result)


def main(argv: list[str]) -> int:
    if not REAL_DOVECONF.exists():
        print(f"{REAL_DOVECONF} is not installed: nothing to record", file=sys.stderr)
        return 1
    trees = {tree.name: tree for tree in case_trees() + external_trees()}
    wanted = argv or [*trees, *BAD_INPUTS]
    unknown = [name for name in wanted if name not in trees and name not in BAD_INPUTS]
    if unknown:
        print(f"unknown case(s): {' '.join(unknown)}", file=sys.stderr)
        return 2
    if not argv:
        # A full run also drops goldens of cases that no longer exist.
        for stale in GOLDENS_DIR.glob("*/manifest.json"):
            if stale.parent.name not in trees:
                shutil.rmtree(stale.parent)
    runs = 0
    for name in wanted:
        if name in trees:
            runs += record_tree(trees[name])
        else:
            record_bad_input(name)
            runs += 1
    print(f"recorded {runs} golden run(s) for {len(wanted)} tree(s)/input(s)")
    skipped = [name for name, entry in EXTERNAL_TREES.items() if not entry.is_file()]
    if skipped and not argv:
        print(f"skipped external tree(s) not present: {' '.join(skipped)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
