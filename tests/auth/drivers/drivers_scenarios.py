"""Scenarios run both by real Dovecot (drivers_record_goldens.py) and by our AuthChain.

Each scenario is a dovecot.conf auth part plus the files it reads; ``@DIR@`` stands for the
directory the files are written to. Passwords in the files are precomputed hashes so the
scenario text is identical at record and test time.
"""

from __future__ import annotations

from dataclasses import dataclass

# {SHA512-CRYPT} of "alice-seed" (the seed database's hash for alice).
ALICE_HASH = "{SHA512-CRYPT}$6$TewJZ7mY/Oa4AIy8$W6QwsQARhfRq9Au.mOi6dMkwPfttlnILmDS4bybAEC1/9KnJnNOYf1Jqn3CqgOr3ydFtstcbrG13OHEWvPOcg/"


@dataclass(frozen=True)
class Scenario:
    name: str
    conf: str
    files: dict[str, str]
    auth_cases: tuple[tuple[str, str], ...]  # (login name, password), rip 1.2.3.4
    user_cases: tuple[str, ...]


USERS = (
    f"alice@example.com:{ALICE_HASH}:1000:1000::/home/alice::userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G\n"
    "bob@example.com:{PLAIN}bobpw:::::: nologin reason=Go\\ away\n"
    "carol@example.com:{PLAIN}carolpw::::::allow_nets=10.0.0.0/8\n"
    "dave@example.com:{PLAIN}davepw::::::proxy host=10.1.1.1 user=dave@other.example\n"
)

SCENARIOS = (
    Scenario(
        name="chain",
        conf="""
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT @DIR@/users
}
passdb {
  driver = static
  args = password=fallback
  name = fb
}
userdb {
  driver = passwd-file
  args = @DIR@/users
  result_success = continue-ok
}
userdb {
  driver = static
  args = uid=1000 gid=1000 home=/srv/vmail/%d/%n
}
""",
        files={"users": USERS},
        auth_cases=(
            ("alice@example.com", "alice-seed"),
            ("alice@example.com", "bad"),
            ("nobody@x", "fallback"),
            ("carol@example.com", "carolpw"),
            ("bob@example.com", "bobpw"),
            ("dave@example.com", "davepw"),
        ),
        user_cases=("alice@example.com", "nobody@x", "bob@example.com"),
    ),
    Scenario(
        name="master_deny_fields",
        conf="""
auth_master_user_separator = *
passdb {
  driver = passwd-file
  args = @DIR@/masters
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = @DIR@/denied
  deny = yes
}
passdb {
  driver = passwd-file
  args = @DIR@/users
  default_fields = userdb_home=/var/mail/%d/%n from=default
  override_fields = userdb_uid=1001 from=override
}
userdb {
  driver = prefetch
}
userdb {
  driver = static
  args = uid=1000 gid=1000 home=/srv/%u allow_all_users=yes
}
""",
        files={
            "users": USERS,
            "masters": "admin:{PLAIN}adminpw\n",
            "denied": "bob@example.com\n",
        },
        auth_cases=(
            ("alice@example.com*admin", "adminpw"),
            ("alice@example.com*admin", "wrong"),
            ("nobody@x*admin", "adminpw"),
            ("bob@example.com", "bobpw"),
            ("carol@example.com", "carolpw"),
            ("alice@example.com", "alice-seed"),
            ("nobody@x", "x"),
        ),
        user_cases=("alice@example.com", "nobody@x"),
    ),
    Scenario(
        name="rules",
        conf="""
passdb {
  driver = passwd-file
  args = @DIR@/users
  result_failure = return-fail
  username_filter = *@example.com !bob@*
}
passdb {
  driver = static
  args = password=any
  result_success = return
}
passdb {
  driver = static
  args = password=other
}
userdb {
  driver = passwd-file
  args = @DIR@/users
}
""",
        files={"users": USERS},
        auth_cases=(
            ("alice@example.com", "alice-seed"),
            ("alice@example.com", "any"),
            ("bob@example.com", "any"),
            ("bob@example.com", "other"),
            ("zed@else.org", "other"),
        ),
        user_cases=("alice@example.com", "zed@else.org"),
    ),
    Scenario(
        name="prefetch_only",
        conf="""
passdb {
  driver = passwd-file
  args = @DIR@/users
}
userdb {
  driver = prefetch
}
""",
        files={"users": USERS + "empty@example.com:\nnocolon@example.com\n"},
        auth_cases=(
            ("empty@example.com", "x"),
            ("nocolon@example.com", "x"),
            ("alice@example.com", "alice-seed"),
        ),
        user_cases=("alice@example.com", "nobody@x"),
    ),
)
