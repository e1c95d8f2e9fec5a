"""passwd-file, static, shadow and passwd drivers, and the field rules of fields.py."""

from __future__ import annotations

import asyncio
import os
import pwd
from pathlib import Path

import pytest

from pydovecot.auth.fields import AuthFields, AuthRequest, FieldTemplate
from pydovecot.auth.lookup import AuthChain
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.interface import PassdbConfigError, create_passdb
from pydovecot.auth.passdb.passwd import PasswdPassdb, ShadowPassdb
from pydovecot.auth.passdb.passwd_file import PasswdFilePassdb, parse_passwd_file
from pydovecot.auth.passdb.static import StaticPassdb
from pydovecot.auth.userdb.interface import UserdbResult, create_userdb
from pydovecot.auth.userdb.passwd import PasswdUserdb
from pydovecot.auth.userdb.passwd_file import PasswdFileUserdb
from pydovecot.config import load


def _request(user: str, logs: list[str] | None = None, **kwargs: object) -> AuthRequest:
    sink = logs if logs is not None else []
    return AuthRequest(user=user, db_name=str(kwargs.pop("db_name", "passwd-file")), verbose=True, debug=False,
                       log_callback=lambda level, line: sink.append(f"{level}: {line}"), **kwargs)  # type: ignore[arg-type]


# --- passwd-file ---------------------------------------------------------------------------------


def test_passwd_file_format() -> None:
    users, warnings = parse_passwd_file(
        "# comment\n\n"
        "a@x:{PLAIN}pw:1000:100:Gecos:/home/a:/bin/sh:userdb_mail=maildir:~/M quota=1\n"
        "b@x:pw\n"
        "c@x::nosuchuser-pydovecot\n"
        "a@x:{PLAIN}dup\n", "/f")
    a = users["a@x"]
    assert (a.password, a.uid, a.gid, a.home) == ("{PLAIN}pw", 1000, 100, "/home/a")
    assert a.extra_fields == ("userdb_mail=maildir:~/M", "quota=1")  # colons after the 7th stay in the fields
    assert users["b@x"].uid is None and users["b@x"].home is None
    assert "c@x" not in users
    assert warnings == ["passwd-file /f: User c@x has invalid UID 'nosuchuser-pydovecot'",
                        "passwd-file /f: User a@x exists more than once"]


def test_passwd_file_args() -> None:
    db = create_passdb("passwd-file", "scheme=sha512-crypt username_format=%n /etc/x")
    assert isinstance(db, PasswdFilePassdb)
    assert (db.default_pass_scheme, db.db.username_format, db.db.path) == ("SHA512-CRYPT", "%n", "/etc/x")
    assert create_passdb("passwd-file", "/etc/y").default_pass_scheme == "CRYPT"
    with pytest.raises(PassdbConfigError):
        create_passdb("passwd-file", "scheme=PLAIN")


def test_passwd_file_passdb_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("a@x:{PLAIN}one::::::userdb_home=/home/%n\n")
    passdb = PasswdFilePassdb(str(path))
    logs: list[str] = []

    async def run() -> list[PassdbResult]:
        first = _request("a@x", logs)
        out = [await passdb.verify_plain(first, b"one")]
        assert first.userdb_reply is not None and first.userdb_reply.as_dict() == {"home": "/home/a"}
        path.write_text("a@x:{PLAIN}two\nb@x:{PLAIN}bee\n")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
        out.append(await passdb.verify_plain(_request("a@x", logs), b"one"))
        out.append(await passdb.verify_plain(_request("a@x", logs), b"two"))
        out.append(await passdb.verify_plain(_request("c@x", logs), b"x"))
        out.append((await passdb.lookup_credentials(_request("b@x", logs), "PLAIN"))[0])
        out.append(PassdbResult.OK if [u async for u in passdb.iterate()] == ["a@x", "b@x"]  # type: ignore[union-attr]
                   else PassdbResult.INTERNAL_FAILURE)
        return out

    assert asyncio.run(run()) == [PassdbResult.OK, PassdbResult.PASSWORD_MISMATCH, PassdbResult.OK,
                                  PassdbResult.USER_UNKNOWN, PassdbResult.OK, PassdbResult.OK]
    assert logs == ["info: passwd-file(a@x): Password mismatch", "info: passwd-file(c@x): unknown user"]


def test_passwd_file_per_domain_path(tmp_path: Path) -> None:
    (tmp_path / "ex.org").mkdir()
    (tmp_path / "ex.org" / "passwd").write_text("ann:{PLAIN}pw:1001:1001::/home/ann::userdb_quota_rule=*:storage=1M\n")
    passdb = PasswdFilePassdb(f"{tmp_path}/%d/passwd", username_format="%n")
    userdb = PasswdFileUserdb(f"{tmp_path}/%d/passwd", username_format="%n")

    async def run() -> tuple[PassdbResult, PassdbResult, UserdbResult, dict[str, str]]:
        ok = await passdb.verify_plain(_request("ann@ex.org"), b"pw")
        missing_domain = await passdb.verify_plain(_request("ann@nowhere.org"), b"pw")
        request = _request("ann@ex.org", userdb_lookup=True)
        found = await userdb.lookup(request)
        return ok, missing_domain, found, request.userdb_reply.as_dict()  # type: ignore[union-attr]

    ok, missing_domain, found, fields = asyncio.run(run())
    assert ok is PassdbResult.OK
    assert missing_domain is PassdbResult.USER_UNKNOWN  # a missing per-domain file is an unknown user
    assert found is UserdbResult.OK
    assert fields == {"uid": "1001", "gid": "1001", "home": "/home/ann", "quota_rule": "*:storage=1M"}
    assert passdb.iterate() is None


def test_passwd_file_missing_file_is_internal_failure(tmp_path: Path) -> None:
    logs: list[str] = []
    result = asyncio.run(PasswdFilePassdb(str(tmp_path / "none")).verify_plain(_request("a", logs), b"x"))
    assert result is PassdbResult.INTERNAL_FAILURE
    assert logs == [f"error: passwd-file(a): stat({tmp_path}/none) failed: No such file or directory"]


def test_passwd_file_extra_fields_expand_and_rename(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("old@x:{PLAIN}pw::::::user=new@%d proxy host=10.0.0.%{if;%n;eq;new;1;2} nopassword\n"
                    "np@x:::::::nopassword\n")
    passdb = PasswdFilePassdb(str(path))
    request = _request("old@x")
    assert asyncio.run(passdb.verify_plain(request, b"pw")) is PassdbResult.OK
    assert request.user == "new@x"
    # Fields are applied in order, so %n after the rename is the new name.
    assert request.reply_fields() == ["user=new@x", "proxy", "host=10.0.0.1", "original_user=old@x"]
    # nopassword with a non-empty password is refused: the password must match.
    assert asyncio.run(passdb.verify_plain(_request("old@x"), b"wrong")) is PassdbResult.PASSWORD_MISMATCH
    assert asyncio.run(passdb.verify_plain(_request("np@x"), b"anything")) is PassdbResult.OK


# --- static ---------------------------------------------------------------------------------------


def test_static_passdb() -> None:
    logs: list[str] = []
    with_password = StaticPassdb.from_args("password=%n-pw proxy=y")
    request = _request("bob@x", logs, db_name="static")
    assert asyncio.run(with_password.verify_plain(request, b"bob-pw")) is PassdbResult.OK
    assert request.extra_fields.visible() == {"proxy": "y"}
    nothing = StaticPassdb.from_args("")
    assert asyncio.run(nothing.verify_plain(_request("bob@x", logs, db_name="static"), b"x")) \
        is PassdbResult.PASSWORD_MISMATCH
    assert logs == ["info: static(bob@x): No password returned (and no nopassword)"]
    anyone = StaticPassdb.from_args("nopassword")
    assert asyncio.run(anyone.verify_plain(_request("bob@x"), b"x")) is PassdbResult.OK


def test_static_userdb_refuses_unknown_constant_uid() -> None:
    with pytest.raises(PassdbConfigError, match="static userdb: Invalid uid: nosuchuser-pydovecot"):
        create_userdb("static", "uid=nosuchuser-pydovecot gid=0")
    assert create_userdb("static", "uid=%{userdb:uid} gid=0") is not None  # resolved per lookup


# --- system accounts ------------------------------------------------------------------------------


def test_shadow_passdb(tmp_path: Path) -> None:
    from pydovecot.auth.schemes import generate

    shadow = tmp_path / "shadow"
    crypted = generate("SHA512-CRYPT", b"rootpw")[len("{SHA512-CRYPT}"):]
    shadow.write_text(f"root:{crypted}:19000:0:99999:7:::\nlocked:!{crypted}:19000::::::\n")
    passdb = ShadowPassdb(str(shadow))
    results = [asyncio.run(passdb.verify_plain(_request(user, db_name="shadow"), password))
               for user, password in (("root", b"rootpw"), ("root", b"x"), ("locked", b"rootpw"), ("none", b"x"))]
    assert results == [PassdbResult.OK, PassdbResult.PASSWORD_MISMATCH, PassdbResult.USER_DISABLED,
                       PassdbResult.USER_UNKNOWN]
    missing = ShadowPassdb(str(tmp_path / "nope"))
    assert asyncio.run(missing.verify_plain(_request("root"), b"x")) is PassdbResult.INTERNAL_FAILURE


def test_passwd_drivers_use_getpwnam() -> None:
    entry = pwd.getpwuid(0)
    request = _request(entry.pw_name, userdb_lookup=True)
    assert asyncio.run(PasswdUserdb().lookup(request)) is UserdbResult.OK
    assert request.userdb_reply.as_dict() == {  # type: ignore[union-attr]
        "system_groups_user": entry.pw_name, "uid": "0", "gid": str(entry.pw_gid), "home": entry.pw_dir}
    assert asyncio.run(PasswdUserdb().lookup(_request("nosuchuser-pydovecot"))) is UserdbResult.USER_UNKNOWN
    assert asyncio.run(PasswdPassdb().verify_plain(_request("nosuchuser-pydovecot"), b"x")) is PassdbResult.USER_UNKNOWN


# --- fields ---------------------------------------------------------------------------------------


def test_field_suffixes_and_renames() -> None:
    request = _request("jane@old.org")
    request.set_field("a", "1")
    request.set_field("a:protected", "2")
    request.set_field("b:protected", "3")
    request.set_field("b:remove", "")
    request.set_field("domain", "new.org")
    assert request.user == "jane@new.org"
    request.set_field("username", "joe")
    assert request.user == "joe@new.org"
    assert request.extra_fields.visible() == {"a": "1"}
    request.set_field("userdb_uid", "0")
    request.set_field("userdb_home:protected", "/h")
    request.set_field("userdb_home:protected", "/ignored")
    assert request.userdb_reply.as_dict() == {"uid": "0", "home": "/h"}  # type: ignore[union-attr]
    request.set_field("userdb_userdb_import", "mail=m\tquota_rule=*:storage=1G")
    assert request.userdb_reply.get("quota_rule") == "*:storage=1G"  # type: ignore[union-attr]


def test_password_field_and_nopassword() -> None:
    logs: list[str] = []
    request = _request("u", logs)
    request.set_field("password", "secret", "CRYPT")
    assert request.passdb_password == "{CRYPT}secret"
    request.set_field("nopassword", "")
    assert "nopassword" not in request.extra_fields
    assert logs == ["error: passwd-file(u): nopassword set but password is non-empty"]
    other = _request("u")
    other.set_field("password_noscheme", "{x}y", "PLAIN")
    assert other.passdb_password == "{PLAIN}{x}y"


@pytest.mark.parametrize(("nets", "rip", "failed"), [
    ("10.0.0.0/8", "10.1.2.3", False),
    ("10.0.0.0/8,192.168.1.1", "192.168.1.1", False),
    ("10.0.0.0/8", "11.0.0.1", True),
    ("local", None, False),
    ("10.0.0.0/8", None, True),
    ("::1/128 bogus", "::1", False),
])
def test_allow_nets(nets: str, rip: str | None, failed: bool) -> None:
    request = _request("u", remote_ip=rip)
    request.set_field("allow_nets", nets)
    assert request.failed is failed
    assert "allow_nets" not in request.extra_fields.visible()


def test_auth_fields_snapshot_rollback() -> None:
    fields = AuthFields()
    fields.add("a", "1")
    fields.snapshot()
    fields.add("b", "2")
    fields.remove("a")
    fields.rollback()
    assert fields.as_dict() == {"a": "1"}


def test_field_template_expansion_error() -> None:
    request = _request("u@x")
    assert FieldTemplate.parse("home=/h/%{nosuchvariable}").export_userdb(request) is not None
    assert FieldTemplate.parse("home=/h/%d/%n").export_userdb(request) is None
    assert request.userdb_reply.as_dict() == {"home": "/h/x/u"}  # type: ignore[union-attr]


# --- from the settings tree -----------------------------------------------------------------------


def _conf(tmp_path: Path, body: str) -> object:
    conf = tmp_path / "dovecot.conf"
    conf.write_text("protocols =\nssl = no\n" + body)
    return load(str(conf)).lookup(service="imap")


def test_from_settings_reads_sections(tmp_path: Path) -> None:
    (tmp_path / "users").write_text("a:{PLAIN}pw\n")
    node = _conf(tmp_path, f"""
auth_verbose = yes
auth_master_user_separator = *
passdb {{
  driver = passwd-file
  args = {tmp_path}/users
  master = yes
  result_success = continue
}}
passdb deny_list {{
  driver = static
  args = nopassword
  deny = yes
  mechanisms = plain login
  username_filter = *@spam.test
}}
passdb {{
  driver = static
  args = password=pw
}}
userdb {{
  driver = prefetch
}}
userdb {{
  driver = static
  args = uid=0 gid=0 home=/srv/%u
  skip = found
}}
""")
    chain = AuthChain.from_settings(node)
    assert [e.master for e in chain.masterdbs] == [True]
    assert [(e.log_name, e.deny, e.mechanisms, e.username_filter) for e in chain.passdbs] == [
        ("deny_list", True, ("plain", "login"), ("*@spam.test",)), ("static", False, None, None)]
    assert [(e.log_name, e.skip) for e in chain.userdbs] == [("prefetch", "never"), ("static", "found")]
    assert chain.verbose and chain.master_user_separator == "*"


def test_from_settings_refuses_last_pass_yes(tmp_path: Path) -> None:
    node = _conf(tmp_path, "passdb {\n  driver = static\n  args = password=x\n  pass = yes\n}\n")
    with pytest.raises(PassdbConfigError, match="Last passdb can't have pass=yes"):
        AuthChain.from_settings(node)


def test_chain_iterates_users_of_listable_userdbs(tmp_path: Path) -> None:
    (tmp_path / "users").write_text("a@x:pw\nb@x:pw\n")
    node = _conf(tmp_path, f"""
passdb {{
  driver = passwd-file
  args = {tmp_path}/users
}}
userdb {{
  driver = static
  args = uid=0 gid=0 home=/h/%u allow_all_users=yes
}}
userdb {{
  driver = passwd-file
  args = {tmp_path}/users
}}
""")
    chain = AuthChain.from_settings(node)

    async def collect() -> list[str]:
        return [user async for user in chain.iterate_users()]

    assert asyncio.run(collect()) == ["a@x", "b@x"]  # static cannot list users; passwd-file can
