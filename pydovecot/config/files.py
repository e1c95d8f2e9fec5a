"""File-system helpers of the configuration reader: include globs, relative paths, file
stamps.  Kept apart (and free of heavy imports) because cached answers are validated with
them on every doveconf start."""

from __future__ import annotations

import os


def _expand_braces(pattern: str) -> list[str]:
    """GLOB_BRACE: ``a{b,c}d`` -> ``abd``, ``acd`` (nested braces supported)."""
    start = pattern.find("{")
    if start < 0:
        return [pattern]
    depth = 0
    for end in range(start, len(pattern)):
        if pattern[end] == "{":
            depth += 1
        elif pattern[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        return [pattern]
    inner = pattern[start + 1 : end]
    parts, depth, last = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[last:i])
            last = i + 1
    parts.append(inner[last:])
    head, tail = pattern[:start], pattern[end + 1 :]
    out: list[str] = []
    for part in parts:
        out.extend(_expand_braces(head + part + tail))
    return out


def glob_include(pattern: str) -> list[str]:
    """The files an include pattern names, sorted as glob(3) in the C locale sorts them."""
    import glob  # not at module level: cached answers are checked without globbing

    matches: list[str] = []
    for variant in _expand_braces(pattern):
        if glob.has_magic(variant):
            matches.extend(glob.glob(variant))
        elif os.path.lexists(variant):
            matches.append(variant)
    return sorted(set(matches), key=lambda p: p.encode("utf-8", "surrogateescape"))


def relative_to(path: str, including: str) -> str:
    if path.startswith("/"):
        return path
    slash = including.rfind("/")
    if slash < 0:
        return path
    return including[: slash + 1] + path


def stamp(path: str) -> list[int] | None:
    """What identifies a file's content for caches: mtime, size, inode, and a CRC of the
    bytes (timestamps alone can miss two edits within one clock tick)."""
    import zlib

    try:
        st = os.stat(path)
        if os.path.isdir(path):
            return [st.st_mtime_ns, st.st_size, st.st_ino, 0]
        with open(path, "rb") as f:
            crc = zlib.crc32(f.read())
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino, crc]

def include_stamp(pattern: str) -> list[int] | None:
    """A stamp that changes whenever the matches of ``pattern`` may change: the mtime and
    inode of the directory its last component is matched in.  None when a directory
    component has wildcards, or when the directory changed so recently that a change in the
    same clock tick could hide behind the same mtime: then only globbing again can tell."""
    import time

    directory = os.path.dirname(pattern) or "."
    if any(c in directory for c in "*?[{"):
        return None
    try:
        st = os.stat(directory)
    except OSError:
        return None
    if time.time_ns() - st.st_mtime_ns < 2_000_000_000:
        return None
    return [st.st_mtime_ns, st.st_ino]


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[{")
