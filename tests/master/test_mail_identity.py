"""Which uid/gid a user's mail is served as under privilege separation (privileges.mail_identity),
with Dovecot's messages for the refusals (mail-storage-service.c's, as libdovecot-storage has them)."""

from __future__ import annotations

import pytest

from pydovecot.master.privileges import IdentityError, become, login_identity, mail_identity
from pydovecot.master.separation import separation_enabled


class Settings(dict):  # type: ignore[type-arg]
    """A settings node: ``get`` of a name, Dovecot's defaults for the ones not given."""

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        defaults = {"mail_uid": "", "mail_gid": "", "first_valid_uid": 500, "last_valid_uid": 0,
                    "first_valid_gid": 1, "last_valid_gid": 0, "default_login_user": "dovenull"}
        return super().get(name, defaults.get(name, default))


def test_userdb_fields_win_over_mail_uid() -> None:
    identity = mail_identity(Settings(mail_uid="65534", mail_gid="65534"), {"uid": "10000", "gid": "10000"})
    assert (identity.uid, identity.gid) == (10000, 10000)


def test_mail_uid_by_name_and_its_primary_group() -> None:
    identity = mail_identity(Settings(mail_uid="vmail"), {})
    assert (identity.uid, identity.gid) == (10000, 10000)


def test_missing_uid_is_refused() -> None:
    with pytest.raises(IdentityError, match=r"^User is missing UID \(see mail_uid setting\)$"):
        mail_identity(Settings(), {})


@pytest.mark.parametrize(("settings", "fields", "message"), [
    (Settings(), {"uid": "100", "gid": "100"},
     "Mail access for users with UID 100 not permitted (see first_valid_uid in config file, uid from userdb lookup)."),
    (Settings(mail_uid="100", mail_gid="100"), {},
     "Mail access for users with UID 100 not permitted (see first_valid_uid in config file, uid from mail_uid setting)."),
    (Settings(last_valid_uid=9999), {"uid": "10000", "gid": "10000"},  # Dovecot names first_valid_uid here too
     "Mail access for users with UID 10000 not permitted (see first_valid_uid in config file, uid from userdb lookup)."),
    (Settings(first_valid_gid=20000), {"uid": "10000", "gid": "10000"},
     "Mail access for users with GID 10000 not permitted (see first_valid_gid in config file, gid from userdb lookup)."),
    (Settings(), {"uid": "0", "gid": "0"},  # root: below the default first_valid_uid
     "Mail access for users with UID 0 not permitted (see first_valid_uid in config file, uid from userdb lookup)."),
])
def test_refusals_in_dovecots_words(settings: Settings, fields: dict[str, str], message: str) -> None:
    with pytest.raises(IdentityError) as info:
        mail_identity(settings, fields)
    assert str(info.value) == message


def test_unknown_user_name() -> None:
    with pytest.raises(IdentityError, match="Unknown UID: no-such-user-here"):
        mail_identity(Settings(mail_uid="no-such-user-here"), {})


def test_login_identity_is_default_login_user() -> None:
    assert login_identity(Settings()).name == "dovenull"


def test_separation_needs_root() -> None:
    assert separation_enabled("separated", euid=0)
    assert not separation_enabled("separated", euid=1000)
    assert separation_enabled("auto", euid=0)  # the default, as root: Dovecot's model
    assert not separation_enabled("auto", euid=1000)
    assert not separation_enabled("single", euid=0)
    assert not separation_enabled("workers", euid=0)


def test_become_cannot_be_undone() -> None:
    """In a forked child: after become(), setuid(0) fails and /proc shows the identity everywhere."""
    import os

    if os.geteuid() != 0:
        pytest.skip("needs root")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            from pydovecot.master.privileges import Identity

            become(Identity(65534, 65534, "nobody"))
            ok = os.getresuid() == (65534,) * 3 and os.getresgid() == (65534,) * 3 and os.getgroups() == [65534]
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
