"""A cache of doveconf's answers, so that asking again about an unchanged tree is cheap.

doveconf is called often (init scripts, monitoring, other tools) and a Python start plus a
full parse costs several times what Dovecot's C binary needs.  An answer is stored with
everything it depends on: the file stamps of every configuration file read, the files each
``!include`` glob matched, the arguments, the working directory, and the code that made
it.  Any change to any of those misses the cache, and the answer is computed anew.

Parts of the output that depend on the moment (the banner's OS and host lines, the
"Dovecot was last started using ..." check) are not stored: they are recorded as markers
and computed again on replay.  ``-x`` (values expanded from files and the environment) is
never cached.

The cache lives in ``$PYDOVECOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/pydovecot``, else
``~/.cache/pydovecot``; when it cannot be written, doveconf simply works without it.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib

FORMAT = 2
_PACKAGE_DIRS = ("pydovecot/config", "pydovecot/settings", "doveconf")


def cache_dir() -> str:
    explicit = os.environ.get("PYDOVECOT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pydovecot")


def _code_stamp() -> str:
    """Changes whenever the code that produces answers changes (installed or edited)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    newest = 0
    for sub in _PACKAGE_DIRS:
        try:
            with os.scandir(os.path.join(root, sub)) as entries:
                for entry in entries:
                    if entry.name.endswith((".py", ".lark")):
                        newest = max(newest, entry.stat().st_mtime_ns)
        except OSError:
            continue
    return str(newest)


def make_key(args: list[str], config_path: str) -> str:
    # marshal's format belongs to the interpreter version, so that is part of the key too.
    return repr((FORMAT, sys.version_info[:2], _code_stamp(), os.getcwd(), config_path, args))


def _file_name(key: str) -> str:
    return f"{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}-{len(key)}.answer"


def _still_valid(deps: list[list[object]]) -> bool:
    from pydovecot.config.files import glob_include, include_stamp, stamp

    for dep in deps:
        if dep[0] == "file":
            if stamp(str(dep[1])) != dep[2]:
                return False
        elif dep[0] == "glob":
            # An unchanged directory lists the same entries: no need to glob again.
            recorded = dep[3]
            directory_unchanged = recorded is not None and include_stamp(str(dep[1])) == recorded
            if not directory_unchanged and glob_include(str(dep[1])) != dep[2]:
                return False
        else:
            return False
    return True


def load(key: str) -> list[list[object]] | None:
    """The recorded events of an answer still valid for ``key``, or None."""
    try:
        with open(os.path.join(cache_dir(), _file_name(key)), "rb") as f:
            data = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("key") != key or not _still_valid(data.get("deps", [])):
        return None
    return data.get("events")


def store(key: str, deps: list[list[object]], events: list[list[object]]) -> None:
    if not deps:
        return
    directory = cache_dir()
    try:
        # Answers can hold secrets (-P output, values of files only root may read): the
        # cache is private to the user who asked, whatever the umask.
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps({"key": key, "deps": deps, "events": events}))
        os.replace(tmp, os.path.join(directory, _file_name(key)))
    except OSError:
        return
