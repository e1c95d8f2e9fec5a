"""The quota plugin: limits checked on save and copy, usage kept up to date, warnings run."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydovecot.storage.interface import Mailbox, MailboxError
from pydovecot.storage.maildir.save import virtual_size

from ..hooks import MailboxWrapper, MailPlugin
from ..registry import PluginError, register
from .rules import QuotaConfigError, QuotaRoot, parse_size, quota_roots
from .usage import CountBackend, MaildirsizeBackend, Usage, UsageBackend

log = logging.getLogger("pydovecot.plugins")
DEFAULT_EXCEEDED = "Quota exceeded (mailbox for user is full)"
OVERQUOTA = "OVERQUOTA"


class QuotaExceeded(MailboxError):
    def __init__(self, message: str) -> None:
        super().__init__(message, OVERQUOTA)


@register
class QuotaPlugin(MailPlugin):
    name = "quota"

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        try:
            self.roots = quota_roots(user.settings.plugin)
        except QuotaConfigError as exc:
            raise PluginError(f"quota: {exc}") from exc
        # quota_vsizes: count virtual sizes (CRLF line endings) instead of the files' sizes.
        self.vsizes = self.setting_bool("quota_vsizes")
        for root in self.roots:
            if root.backend == "count" and not self.vsizes:
                raise PluginError(f"Failed to initialize quota: Quota root {root.name}: count quota init failed: "
                                  "quota count backend requires quota_vsizes=yes")
        self.exceeded_message = self.setting("quota_exceeded_message") or DEFAULT_EXCEEDED
        max_size = self.setting("quota_max_mail_size")
        self.max_mail_size = parse_size(max_size, "b") if max_size and max_size != "0" else 0
        self.backends = {root.setting: self._backend(root) for root in self.roots}

    # --- usage -------------------------------------------------------------------------------

    def _totals(self) -> Iterable[tuple[str, int, int, int]]:
        for listed in self.user.namespaces.list("*"):
            if "\\Noselect" in listed.flags or listed.namespace.type != "private":
                continue
            ns, storage = self.user.resolve(listed.vname)
            snapshot = self.user.backend_mailbox(ns, storage).sync()
            yield (listed.vname, sum(m.size for m in snapshot.messages), sum(m.vsize for m in snapshot.messages),
                   len(snapshot.messages))

    def _backend(self, root: QuotaRoot) -> UsageBackend:
        def counted(vname: str) -> bool:
            return root.limits_for(vname) is not None

        if root.backend == "dict":
            return self._dict_backend(root, counted, self.vsizes)
        if root.backend == "maildir":
            location = self.user.namespaces.inbox_namespace.location
            return MaildirsizeBackend(location.root, root.limits_for(None) or (0, 0), self._totals, counted)
        return CountBackend(self._totals, counted)

    def _dict_backend(self, root: QuotaRoot, counted: Callable[[str], bool], vsizes: bool) -> UsageBackend:
        from pydovecot.config.errors import ConfigError

        from .dict_backend import DictBackend, DictError, open_store, parse_args, resolve_uri

        try:
            args = parse_args(self.setting(root.setting))
            named: dict[str, str] = self.user.settings.node.get("dict") or {}
            store = open_store(resolve_uri(args.uri, named), args.username or self.user.username)
        except (DictError, ConfigError) as exc:
            raise PluginError(f"quota: {exc}") from exc
        return DictBackend(store, self._totals, counted, vsizes=vsizes)

    def message_sizes(self, mailbox: Mailbox) -> dict[int, int]:
        """Each message's size as this quota counts it (virtual with quota_vsizes)."""
        messages = mailbox.sync().messages
        if self.vsizes:
            return {m.uid: m.vsize for m in messages}
        return {m.uid: m.size for m in messages}

    def usage(self, root: QuotaRoot) -> Usage:
        return self.backends[root.setting].usage()

    def recalculate(self) -> None:
        for backend in self.backends.values():
            backend.recalculate()

    # --- checks ------------------------------------------------------------------------------

    def check_save(self, vname: str, size: int, count: int = 1) -> None:
        """Raise QuotaExceeded when ``count`` messages of ``size`` bytes in all may not go into
        ``vname``."""
        if count == 1 and self.max_mail_size and size > self.max_mail_size:
            raise QuotaExceeded("Mail is larger than the allowed size")
        for root in self.roots:
            limits = root.limits_for(vname)
            if limits is None or not root.enforcing:
                continue
            storage_limit, message_limit = limits
            used = self.usage(root)
            if message_limit and used.messages + count > message_limit:
                raise QuotaExceeded(self.exceeded_message)
            if storage_limit and used.bytes + size > storage_limit:
                # quota_grace: a user still under the limit may go over it by the grace once.
                if used.bytes > storage_limit or used.bytes + size > storage_limit + root.grace(storage_limit):
                    raise QuotaExceeded(self.exceeded_message)

    def saved(self, vname: str, size: int, count: int, before: dict[str, Usage]) -> None:
        for root in self.roots:
            if root.limits_for(vname) is None:
                continue
            self.backends[root.setting].changed(size, count)
            self._warnings(root, before.get(root.setting), self.usage(root))

    def usage_before(self) -> dict[str, Usage]:
        return {root.setting: self.usage(root) for root in self.roots if self._has_warnings(root)}

    # --- warnings ----------------------------------------------------------------------------

    def _has_warnings(self, root: QuotaRoot) -> bool:
        return bool(self.setting(f"{root.setting}_warning"))

    def _warning_settings(self, root: QuotaRoot) -> list[str]:
        out, n = [], 1
        while True:
            key = f"{root.setting}_warning" + ("" if n == 1 else str(n))
            value = self.setting(key)
            if not value:
                return out
            out.append(value)
            n += 1

    def _warnings(self, root: QuotaRoot, before: Usage | None, after: Usage) -> None:
        if before is None:
            return
        storage_limit, message_limit = root.limits_for(None) or (0, 0)
        for warning in self._warning_settings(root):
            rule, _, command = warning.partition(" ")
            downward = rule.startswith("-")
            key, _, value = rule.lstrip("-").partition("=")
            limit = storage_limit if key in ("storage", "bytes") else message_limit
            if not limit:
                continue
            threshold = limit * int(value[:-1]) // 100 if value.endswith("%") else parse_size(value, "b")
            used_before = before.bytes if key in ("storage", "bytes") else before.messages
            used_after = after.bytes if key in ("storage", "bytes") else after.messages
            # Dovecot's quota_warning_match: "-" is over -> under, and only the first match runs.
            crossed = (used_before >= threshold > used_after) if downward else (used_before < threshold <= used_after)
            if crossed:
                self._run_warning(command)
                break

    def _run_warning(self, command: str) -> None:
        args = shlex.split(command)
        if not args:
            return
        executable = self._service_executable(args[0])
        if executable is None:
            log.error("quota: quota-warning service %s not found", args[0])
            return
        try:
            # Fire and forget, as Dovecot hands the warning to its service and goes on.
            subprocess.Popen([*executable, *args[1:]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            log.error("quota: running %s failed: %s", executable[0], exc)

    def _service_executable(self, name: str) -> list[str] | None:
        for service in self.user.settings.node.get("service"):
            if service.get("name") == name:
                words = shlex.split(str(service.get("executable") or ""))
                if words and words[0] == "script" and len(words) > 1:
                    words = words[1:]
                if words and os.path.isabs(words[0]):
                    return words
        return None

    def mailbox_opened(self, mailbox: Mailbox) -> Mailbox:
        return _QuotaMailbox(mailbox, self)  # type: ignore[return-value]


class _QuotaMailbox(MailboxWrapper):
    def __init__(self, inner: Mailbox, plugin: QuotaPlugin) -> None:
        super().__init__(inner)
        self.plugin = plugin

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, **backend: Any) -> int:
        saved = self.saved_form(data)
        size = virtual_size(saved) if self.plugin.vsizes else len(saved)
        self.plugin.check_save(self.vname, size)
        before = self.plugin.usage_before()
        uid = super().append(data, flags=flags, keywords=keywords, internaldate=internaldate, **backend)
        self.plugin.saved(self.vname, size, 1, before)
        return uid

    def copy_to(self, uids: Sequence[int], target: Mailbox) -> tuple[tuple[int, int], ...]:
        # Dovecot copies in one transaction: over quota, nothing is copied (not the first few).
        sizes = self.plugin.message_sizes(self.inner)
        chosen = [sizes[uid] for uid in set(uids) if uid in sizes]
        if len(chosen) > 1:
            self.plugin.check_save(target.vname, sum(chosen), len(chosen))
        return super().copy_to(uids, target)

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        sizes = self.plugin.message_sizes(self.inner)
        before = self.plugin.usage_before()
        done = self.inner.expunge(uids)
        if done:
            self.plugin.saved(self.vname, -sum(sizes.get(uid, 0) for uid in done), -len(done), before)
        return done
