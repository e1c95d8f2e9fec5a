"""The ``mail_fsync`` setting: when Dovecot flushes control files to disk."""

from __future__ import annotations

import enum
import os


class FsyncMode(enum.Enum):
    """Values of ``mail_fsync``; Dovecot's default is ``optimized``."""

    OPTIMIZED = "optimized"
    ALWAYS = "always"
    NEVER = "never"

    @classmethod
    def parse(cls, value: str) -> FsyncMode:
        return cls(value.strip().lower())


def datasync(fd: int, mode: FsyncMode) -> None:
    """Flush file data unless ``mail_fsync = never`` (dovecot-uidlist and subscriptions do this)."""
    if mode is FsyncMode.NEVER:
        return
    # fdatasync is enough: Dovecot only needs the data, the rename publishes the metadata.
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # pragma: no cover - non-Linux
        os.fsync(fd)
