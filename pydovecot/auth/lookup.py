"""Running the passdb and userdb chains exactly as Dovecot 2.3 does.

Passdbs (``passdb { }`` in config order, master passdbs in a chain of their own):

* A passdb is skipped when its ``mechanisms`` do not list the request's mechanism (``none``
  stands for a lookup without one), when ``username_filter`` rejects the user (``!pattern``
  excludes, any plain pattern must match), or by ``skip = authenticated|unauthenticated``
  ("authenticated" meaning an earlier passdb already verified the password).
* The result picks a rule: ``result_success`` for OK, ``result_internalfail`` for an internal
  failure, ``result_failure`` for unknown user / password mismatch / scheme not available.
  ``return*`` ends the chain, ``continue*`` goes on; ``-ok``/``-fail`` set the verdict that the
  chain ends with. ``pass = yes`` is the old spelling of ``result_success = continue``.
* ``deny = yes``: finding the user there refuses it (USER_DISABLED), whatever the rules.
* A passdb that fails has its fields rolled back; one that succeeds keeps them.
* At the end: the verdict if one was set, else an internal failure if any passdb had one (it
  may have held the right password), else the last result. Authentication succeeds only when
  the result is OK *and* some rule said OK (``return`` alone never authenticates).
* Master users (``login_user*master`` with ``auth_master_user_separator``): the master passdbs
  check the master's password; on success the user becomes the login user, and with ``pass =
  yes`` the normal passdbs then run for him without a password check.

Userdbs run after a successful authentication (or alone for LMTP and ``doveadm user``) with the
same rules and ``skip = found|notfound``; ``default_fields`` apply before each, and
``override_fields`` after the one that answers.

Internal failures come out as ``PassdbResult.INTERNAL_FAILURE`` / ``UserdbResult.INTERNAL_FAILURE``
so protocols can answer them as temporary ([UNAVAILABLE], -ERR [SYS/TEMP], 451).
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from pydovecot.auth.cache import AuthCache
from pydovecot.auth.fields import AuthRequest, FieldTemplate, LogCallback
from pydovecot.auth.mechanisms.events import PassdbResult
from pydovecot.auth.passdb.interface import Passdb, PassdbConfigError, create_passdb
from pydovecot.auth.userdb.interface import Userdb, UserdbResult, create_userdb

RULES = ("return", "return-ok", "return-fail", "continue", "continue-ok", "continue-fail")


@dataclass(frozen=True)
class _DbEntry:
    """What passdb and userdb sections share: the result rules and fields around a driver."""

    db: Passdb | Userdb
    name: str = ""  # the section name; the driver name is used when empty
    skip: str = "never"
    result_success: str = "return-ok"
    result_failure: str = "continue"
    result_internalfail: str = "continue"
    default_fields: FieldTemplate = FieldTemplate()
    override_fields: FieldTemplate = FieldTemplate()
    auth_verbose: str = "default"
    args: str = ""  # the driver's args, for the auth cache key (does it use %s?)

    @property
    def log_name(self) -> str:
        return self.name or self.db.driver


@dataclass(frozen=True)
class PassdbEntry(_DbEntry):
    """One ``passdb { }`` section with its driver."""

    db: Passdb
    deny: bool = False
    pass_: bool = False
    master: bool = False
    mechanisms: tuple[str, ...] | None = None
    username_filter: tuple[str, ...] | None = None

    @property
    def success_rule(self) -> str:
        # pass=yes predates result_success and means "continue".
        return "continue" if self.pass_ else self.result_success


@dataclass(frozen=True)
class UserdbEntry(_DbEntry):
    """One ``userdb { }`` section with its driver."""

    db: Userdb


def _section_rules(section: object) -> dict[str, object]:
    """The settings every passdb/userdb section has, as _DbEntry fields."""
    s = section.get  # type: ignore[attr-defined]
    return {
        "name": s("name") if _is_explicit_name(section) else "",
        "skip": s("skip"),
        "result_success": s("result_success"),
        "result_failure": s("result_failure"),
        "result_internalfail": s("result_internalfail"),
        "default_fields": FieldTemplate.parse(s("default_fields")),
        "override_fields": FieldTemplate.parse(s("override_fields")),
        "auth_verbose": s("auth_verbose"),
        "args": s("args"),
    }


@dataclass
class PassdbOutcome:
    """The passdb chain's answer."""

    result: PassdbResult
    passdb_success: bool
    credentials: bytes | None = None

    @property
    def authenticated(self) -> bool:
        return self.result is PassdbResult.OK and self.passdb_success

    @property
    def internal_failure(self) -> bool:
        return self.result is PassdbResult.INTERNAL_FAILURE


@dataclass
class _PassdbRun:
    """State of one walk through the passdbs (Dovecot keeps it in the auth_request)."""

    passdb_success: bool = False
    seen_user_unknown: bool = False
    seen_internal_failure: bool = False
    delayed_credentials: bytes | None = None


def _split_list(text: str) -> tuple[str, ...] | None:
    words = tuple(w for w in text.replace(",", " ").split() if w)
    return words or None


def username_accepted(patterns: Sequence[str], user: str) -> bool:
    """username_filter: excluded by any matching ``!pattern``; included if no plain pattern
    exists or one matches. Patterns know ``*`` and ``?`` only."""
    have_includes = matched = False
    for pattern in patterns:
        exclude = pattern.startswith("!")
        body = pattern[1:] if exclude else pattern
        if not exclude:
            have_includes = True
        if fnmatch.fnmatchcase(user, body.replace("[", "[[]")):
            if exclude:
                return False
            matched = True
    return matched or not have_includes


def mechanism_accepted(mechs: Sequence[str] | None, mechanism: str | None) -> bool:
    if mechs is None:
        return True
    wanted = "none" if mechanism is None else mechanism
    return any(m.lower() == wanted.lower() for m in mechs)


def split_master_login(name: str, separator: str) -> tuple[str, str | None]:
    """``"jane*admin"`` -> (``"admin"``, ``"jane"``): the master user authenticates, and
    the login user is what he asks to become. Without the separator: (name, None)."""
    if not separator or separator not in name:
        return name, None
    login_user, _, master = name.partition(separator)
    return master, login_user


@dataclass
class AuthChain:
    """The passdbs, master passdbs and userdbs of one service, and the rules between them."""

    passdbs: list[PassdbEntry] = field(default_factory=list)
    masterdbs: list[PassdbEntry] = field(default_factory=list)
    userdbs: list[UserdbEntry] = field(default_factory=list)
    verbose: bool = False
    debug: bool = False
    master_user_separator: str = ""
    log_callback: LogCallback | None = None
    cache: AuthCache | None = None  # auth_cache_size > 0: driver answers are cached

    def __post_init__(self) -> None:
        if not self.userdbs:
            # Dovecot adds a static userdb without fields when none is configured.
            from pydovecot.auth.userdb.static import StaticUserdb

            self.userdbs = [UserdbEntry(StaticUserdb(FieldTemplate()))]
        for entry in self.userdbs:
            # prefetch answers differently when no other userdb could know the user.
            if hasattr(entry.db, "is_only_userdb"):
                entry.db.is_only_userdb = len(self.userdbs) == 1  # type: ignore[union-attr]

    # --- construction from the settings tree ---------------------------------------------------

    @classmethod
    def from_settings(cls, node: object, *, log_callback: LogCallback | None = None) -> AuthChain:
        """From ``tree.lookup(service=...)``: its passdb/userdb sections and auth_* settings.

        Raises PassdbConfigError for what Dovecot refuses at startup."""
        get = node.get  # type: ignore[attr-defined]
        passdbs: list[PassdbEntry] = []
        masterdbs: list[PassdbEntry] = []
        for section in get("passdb"):
            s = section.get
            entry = PassdbEntry(
                db=create_passdb(s("driver"), s("args")),
                deny=bool(s("deny")),
                pass_=bool(s("pass")),
                master=bool(s("master")),
                mechanisms=_split_list(s("mechanisms")),
                username_filter=_split_list(s("username_filter")),
                **_section_rules(section),  # type: ignore[arg-type]
            )
            (masterdbs if entry.master else passdbs).append(entry)
        if passdbs and passdbs[-1].pass_:
            raise PassdbConfigError("Last passdb can't have pass=yes")
        for entry in masterdbs:
            if entry.deny:
                raise PassdbConfigError("Master passdb can't have deny=yes")
            if entry.pass_ and not passdbs:
                raise PassdbConfigError("Master passdb can't have pass=yes if there are no passdbs")
        userdbs = []
        for section in get("userdb"):
            userdbs.append(UserdbEntry(
                db=create_userdb(section.get("driver"), section.get("args")),
                **_section_rules(section),  # type: ignore[arg-type]
            ))
        return cls(passdbs, masterdbs, userdbs, verbose=bool(get("auth_verbose")), debug=bool(get("auth_debug")),
                   master_user_separator=str(get("auth_master_user_separator")), log_callback=log_callback,
                   cache=AuthCache.from_settings(node))

    async def close(self) -> None:
        for pentry in self.passdbs + self.masterdbs:
            await pentry.db.close()
        for uentry in self.userdbs:
            await uentry.db.close()

    # --- requests --------------------------------------------------------------------------------

    def new_request(self, login_name: str, login_user: str | None = None, **kwargs: object) -> AuthRequest:
        """A request for ``login_name`` (split into master and login user if configured).

        ``login_user`` is a login user the SASL mechanism already parsed (PLAIN authzid, or its
        own split at the separator): ``login_name`` is then the master user, not split again."""
        if login_user is None:
            user, login_user = split_master_login(login_name, self.master_user_separator)
        else:
            user = login_name
        request = AuthRequest(user=user, **kwargs)  # type: ignore[arg-type]
        request.requested_login_user = login_user
        request.log_callback = self.log_callback
        request.verbose = self.verbose
        request.debug = self.debug
        return request

    def _verbose_for(self, setting: str) -> bool:
        return {"yes": True, "no": False}.get(setting, self.verbose)

    # --- passdb chain ------------------------------------------------------------------------------

    def _want_skip_passdb(self, request: AuthRequest, entry: PassdbEntry) -> bool:
        subsystem = request.mechanism.lower() if request.mechanism else "none"
        if not mechanism_accepted(entry.mechanisms, request.mechanism):
            request.log("debug", "skipping passdb: mechanism filtered", subsystem=subsystem)
            return True
        if entry.username_filter is not None and not username_accepted(entry.username_filter, request.user):
            request.log("debug", "skipping passdb: username filtered", subsystem=subsystem)
            return True
        if entry.skip == "authenticated":
            return request.skip_password_check
        if entry.skip == "unauthenticated":
            return not request.skip_password_check
        return False

    def _next_passdb(self, request: AuthRequest, chain: list[PassdbEntry], start: int) -> int | None:
        for index in range(start, len(chain)):
            if not self._want_skip_passdb(request, chain[index]):
                return index
        return None

    async def verify_plain(self, request: AuthRequest, password: bytes) -> PassdbOutcome:
        """Authenticate ``request.user`` with ``password`` through the passdbs."""
        if request.password is None:
            request.password = password
        if any(c in password for c in b"\x01\t\r\n"):
            request.log("info", "Attempted login with password having illegal chars",
                        subsystem=self._mech_subsystem(request))
            return PassdbOutcome(PassdbResult.USER_UNKNOWN, False)

        async def call(entry: PassdbEntry) -> tuple[PassdbResult, bytes | None]:
            if self.cache is not None:
                position = self._passdb_position(entry)
                return await self.cache.verify_plain(position, entry.db, entry.args, request, password), None
            return await entry.db.verify_plain(request, password), None

        return await self._run_passdbs(request, call)

    async def lookup_credentials(self, request: AuthRequest, scheme: str) -> PassdbOutcome:
        """Fetch credentials in ``scheme`` ("" = as stored) through the passdbs."""

        async def call(entry: PassdbEntry) -> tuple[PassdbResult, bytes | None]:
            if self.cache is not None:
                position = self._passdb_position(entry)
                return await self.cache.lookup_credentials(position, entry.db, entry.args, request, scheme)
            return await entry.db.lookup_credentials(request, scheme)

        return await self._run_passdbs(request, call)

    def _passdb_position(self, entry: PassdbEntry) -> int:
        # Master passdbs count after the normal ones, so no two sections share a cache slot.
        if entry.master:
            return len(self.passdbs) + self.masterdbs.index(entry)
        return self.passdbs.index(entry)

    @staticmethod
    def _mech_subsystem(request: AuthRequest) -> str:
        return request.mechanism.lower() if request.mechanism else "none"

    async def _run_passdbs(self, request: AuthRequest, call) -> PassdbOutcome:  # type: ignore[no-untyped-def]
        if request.requested_login_user is not None and not self.masterdbs:
            request.log("info", "Attempted master login with no master passdbs "
                        f"(trying to log in as user: {request.requested_login_user})",
                        subsystem=self._mech_subsystem(request))
            return PassdbOutcome(PassdbResult.USER_UNKNOWN, False)
        chain = self.masterdbs if request.requested_login_user is not None else self.passdbs
        run = _PassdbRun()
        index = self._next_passdb(request, chain, 0)
        saved_userdb_lookup = request.userdb_lookup
        request.userdb_lookup = False
        try:
            while True:
                if index is None:
                    request.log("error", "All password databases were skipped",
                                subsystem=self._mech_subsystem(request))
                    return PassdbOutcome(PassdbResult.INTERNAL_FAILURE, False)
                entry = chain[index]
                result, credentials, is_next = await self._call_passdb(request, entry, call)
                done, result, chain, index = self._handle_passdb_result(request, run, chain, index, result, is_next)
                if not done:
                    if request.skip_password_check and run.delayed_credentials is None and credentials:
                        run.delayed_credentials = credentials
                    continue
                if run.delayed_credentials is not None and not credentials:
                    credentials = run.delayed_credentials
                if result is PassdbResult.SCHEME_NOT_AVAILABLE and run.seen_user_unknown:
                    result = PassdbResult.USER_UNKNOWN
                success = run.passdb_success and not request.failed
                return PassdbOutcome(result, success, credentials if result is PassdbResult.OK else None)
        finally:
            request.userdb_lookup = saved_userdb_lookup
            request.deny_passdb = False

    async def _call_passdb(self, request: AuthRequest, entry: PassdbEntry,
                           call) -> tuple[PassdbResult, bytes | None, bool]:  # type: ignore[no-untyped-def]
        request.db_name = entry.log_name
        request.db_is_master = entry.master
        request.verbose = self._verbose_for(entry.auth_verbose)
        request.deny_passdb = entry.deny
        request.passdb_password = None
        request.log("debug", "Performing passdb lookup")
        error = entry.default_fields.export_passdb(request, entry.db.default_pass_scheme)
        if error is not None:
            request.log("error", f"Failed to expand default_fields: {error}")
            result, credentials = PassdbResult.INTERNAL_FAILURE, None
        else:
            result, credentials = await call(entry)
        is_next = result is PassdbResult.OK and "noauthenticate" in request.extra_fields
        error = entry.override_fields.export_passdb(request, entry.db.default_pass_scheme)
        if error is not None:
            request.log("error", f"Failed to expand override_fields: {error}")
            result, is_next = PassdbResult.INTERNAL_FAILURE, False
        request.log("debug", "Finished passdb lookup")
        return result, credentials, is_next

    def _handle_passdb_result(self, request: AuthRequest, run: _PassdbRun, chain: list[PassdbEntry], index: int,
                              result: PassdbResult, is_next: bool
                              ) -> tuple[bool, PassdbResult, list[PassdbEntry], int | None]:
        """auth_request_handle_passdb_callback: (done, result, chain, next index)."""
        entry = chain[index]
        request.passdb_password = None
        if entry.deny and result is not PassdbResult.USER_UNKNOWN:
            if result is not PassdbResult.INTERNAL_FAILURE:
                request.log("info", "User found from deny passdb", subsystem="")
                result = PassdbResult.USER_DISABLED
            return True, result, chain, None
        if request.failed:
            # Something the passdb returned failed (allow_nets...): this passdb fails, but the
            # next one starts clean.
            if result is PassdbResult.OK and not is_next:
                result = PassdbResult.USER_UNKNOWN
            request.failed = False
        if result is PassdbResult.USER_DISABLED:
            return True, result, chain, None
        if result is PassdbResult.PASS_EXPIRED:
            request.set_field("reason", "Password expired")
            return True, result, chain, None
        if is_next:
            request.log("debug", "Not performing authentication (noauthenticate set)")
            rule = "continue"
        elif result is PassdbResult.OK:
            rule = entry.success_rule
        elif result is PassdbResult.INTERNAL_FAILURE:
            rule = entry.result_internalfail
        else:
            rule = entry.result_failure
        passdb_continue = rule.startswith("continue")
        if rule.endswith("-ok"):
            run.passdb_success = True
        elif rule.endswith("-fail"):
            run.passdb_success = False
        if rule == "continue-ok" or (rule == "continue" and result is PassdbResult.OK and not is_next):
            request.skip_password_check = True
        # nopassword belongs to the passdb that returned it.
        request.extra_fields.remove("nopassword")
        request.extra_fields.remove("noauthenticate")

        ok_like = result is PassdbResult.OK or is_next
        if request.requested_login_user is not None and result is PassdbResult.OK and not is_next:
            self._master_lookup_finish(request)
            chain, start = self.passdbs, 0
        else:
            start = index + 1
        next_index = self._next_passdb(request, chain, start)

        if ok_like:
            request.extra_fields.snapshot()
            request.snapshot_userdb_prefetch_set = request.userdb_prefetch_set
            if request.userdb_reply is not None:
                request.userdb_reply.snapshot()
        else:
            request.extra_fields.rollback()
            if request.userdb_reply is not None:
                request.userdb_reply.rollback()
                request.userdb_prefetch_set = request.snapshot_userdb_prefetch_set

        if passdb_continue and next_index is not None:
            if result is PassdbResult.USER_UNKNOWN:
                run.seen_user_unknown = True
            elif result is PassdbResult.INTERNAL_FAILURE:
                run.seen_internal_failure = True
            return False, result, chain, next_index
        if is_next:
            request.log("error", "Last passdb had noauthenticate field, cannot authenticate user")
            result = PassdbResult.INTERNAL_FAILURE
        elif run.passdb_success:
            result = PassdbResult.OK
        elif run.seen_internal_failure:
            result = PassdbResult.INTERNAL_FAILURE
        return True, result, chain, None

    @staticmethod
    def _master_lookup_finish(request: AuthRequest) -> None:
        if request.failed:
            return
        request.log("info", f"Master user logging in as {request.requested_login_user}", subsystem="")
        request.master_user = request.user
        request.user = request.requested_login_user or request.user
        request.requested_login_user = None

    # --- userdb chain ------------------------------------------------------------------------------

    async def lookup_user(self, request: AuthRequest) -> UserdbResult:
        """The user's fields (``request.userdb_reply``) through the userdbs."""
        if request.passdb_existence_check is None:
            async def existence_check() -> PassdbResult:
                return (await self.lookup_credentials(request, "")).result

            request.passdb_existence_check = existence_check
        userdb_success = False
        seen_internal_failure = False
        index: int | None = 0
        while True:
            assert index is not None
            entry = self.userdbs[index]
            request.userdb_lookup = True
            request.db_name = entry.log_name
            request.verbose = self._verbose_for(entry.auth_verbose)
            request.user_changed_by_lookup = False
            if request.userdb_reply is None:
                request.init_userdb_reply()
            # default_fields apply before every userdb and override what earlier ones set.
            error = entry.default_fields.export_userdb(request)
            request.log("debug", "Performing userdb lookup")
            if error is not None:
                request.log("error", f"Failed to expand default_fields: {error}")
                result = UserdbResult.INTERNAL_FAILURE
            else:
                if self.cache is not None:
                    result = await self.cache.lookup_user(index, entry.db, entry.args, request)
                else:
                    result = await entry.db.lookup(request)
                request.userdb_lookup = True
                request.db_name = entry.log_name
            if result is UserdbResult.OK:
                rule = entry.result_success
            elif result is UserdbResult.INTERNAL_FAILURE:
                rule = entry.result_internalfail
            else:
                rule = entry.result_failure
            if rule.endswith("-ok"):
                userdb_success = True
            elif rule.endswith("-fail"):
                userdb_success = False
            request.log("debug", "Finished userdb lookup")

            next_index = None
            for candidate in range(index + 1, len(self.userdbs)):
                skip = self.userdbs[candidate].skip
                if (skip == "found" and userdb_success) or (skip == "notfound" and not userdb_success):
                    continue
                next_index = candidate
                break
            reply = request.init_userdb_reply()
            if rule.startswith("continue") and next_index is not None:
                if result is UserdbResult.INTERNAL_FAILURE:
                    seen_internal_failure = True
                if result is UserdbResult.OK:
                    error = entry.override_fields.export_userdb(request)
                    if error is not None:
                        request.log("error", f"Failed to expand override_fields: {error}")
                        return UserdbResult.INTERNAL_FAILURE
                    reply.snapshot()
                else:
                    reply.rollback()
                index = next_index
                continue
            break

        if userdb_success:
            error = entry.override_fields.export_userdb(request)
            if error is not None:
                request.log("error", f"Failed to expand override_fields: {error}")
                final = UserdbResult.INTERNAL_FAILURE
            else:
                final = UserdbResult.OK
        elif seen_internal_failure or result is UserdbResult.INTERNAL_FAILURE:
            final = UserdbResult.INTERNAL_FAILURE
        else:
            if request.successful:
                if len(self.userdbs) == 1:
                    request.log("error", "user not found from userdb")
                else:
                    request.log("error", "user not found from any userdbs",
                                subsystem=self._mech_subsystem(request))
            final = UserdbResult.USER_UNKNOWN
        if request.userdb_lookup_tempfailed:
            final = UserdbResult.INTERNAL_FAILURE
        request.userdb_lookup = False
        return final

    # --- the whole login -------------------------------------------------------------------------

    async def authenticate(self, request: AuthRequest, password: bytes) -> tuple[PassdbOutcome, UserdbResult | None]:
        """verify_plain, then (on success) the userdbs: what a login with PLAIN does."""
        outcome = await self.verify_plain(request, password)
        if not outcome.authenticated:
            return outcome, None
        request.successful = True
        return outcome, await self.lookup_user(request)

    async def iterate_users(self) -> AsyncIterator[str]:
        """Every user the userdbs can list (``doveadm user -A``), in userdb order."""
        for entry in self.userdbs:
            users = entry.db.iterate()
            if users is None:
                continue
            async for user in users:
                yield user


def _is_explicit_name(section: object) -> bool:
    # passdb/userdb sections without a name get a counter as their key, not a name.
    name = section.get("name")  # type: ignore[attr-defined]
    return bool(name) and not str(name).isdigit()
