"""A thread working as a mail user still imports lazily, from a Python that user cannot read.

``call_as`` switches only the thread's file-system identity; the import hook reads Python's own
files as root meanwhile, and the user's identity is back for the call's own file work."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from pydovecot.storage.access import call_as, can_switch

NOBODY = 65534


def _unreadable_by_nobody(path: str) -> bool:
    probe = Path(path)
    while probe != probe.parent:
        mode = probe.stat().st_mode
        if not mode & 0o001:  # no search right for others
            return True
        probe = probe.parent
    return False


@pytest.mark.skipif(not can_switch(), reason="needs root on Linux to switch the file-system uid")
def test_lazy_import_as_mail_user(open_tmp_path: Path) -> None:
    if not _unreadable_by_nobody(os.path.dirname(os.__file__)):
        pytest.skip("this Python is readable by nobody: nothing to prove")
    for name in ("encodings.koi8_u", "encodings.mac_iceland"):
        sys.modules.pop(name, None)
    os.chmod(open_tmp_path, 0o777)

    def work() -> tuple[str, int]:
        codec = importlib.import_module("encodings.koi8_u")
        # the user's identity is back after the import: the file belongs to nobody
        made = open_tmp_path / "made-by-user"
        made.write_text("x")
        # a codec found through the codecs machinery, not by name
        text = b"\xe1".decode("mac_iceland")
        return codec.__name__ + text, made.stat().st_uid

    name, owner = call_as(NOBODY, NOBODY, work)
    assert name == "encodings.koi8_u" + "\u00b7"
    assert owner == NOBODY


@pytest.mark.skipif(not can_switch(), reason="needs root on Linux to switch the file-system uid")
def test_user_rights_apply_outside_imports(open_tmp_path: Path) -> None:
    secret = open_tmp_path / "secret"
    secret.write_text("root only")
    secret.chmod(0o600)
    os.chmod(open_tmp_path, 0o755)

    def read() -> str:
        importlib.import_module("encodings.cp1026")
        return secret.read_text()

    with pytest.raises(PermissionError):
        call_as(NOBODY, NOBODY, read)
