"""`doveadm quota get|recalc` (Dovecot's doveadm-quota.c, a plugin of doveadm in 2.3.19).

``quota get`` prints one row per quota root and resource (STORAGE in kilobytes rounded up,
MESSAGE as a count) with the limit, or ``-`` when unlimited, and the percentage used:

    Quota name Type    Value Limit                         %
    User quota STORAGE     9    10                        90

Value, Limit and % are right-justified; the percentage is computed from the kilobyte figures,
as Dovecot does. ``quota recalc`` recounts the usage (rewrites ``maildirsize``). As in
Dovecot the commands exist only when the global ``mail_plugins`` loads quota; a user whose
userdb drops the plugin gets "Quota not enabled".
"""

from __future__ import annotations

from dataclasses import dataclass

from pydovecot.plugins.quota import QuotaPlugin
from pydovecot.plugins.registry import plugin_names

from ..cmd import Command
from ..context import CommandContext
from ..errors import EX_TEMPFAIL, DoveadmExit
from ..mail_runner import EX_NOTFOUND, MailRun, run_mail_command

_RESOURCES = ("STORAGE", "MESSAGE")


def _require_plugin(ctx: CommandContext) -> None:
    node = ctx.settings.lookup(service="doveadm")
    if "quota" not in plugin_names(str(node.get("mail_plugins") or "")):
        raise DoveadmExit(EX_TEMPFAIL, "Fatal: Unknown command 'quota', but plugin quota exists. "
                                       "Try to set mail_plugins=quota\n")


def _quota_of(run: MailRun) -> QuotaPlugin | None:
    assert run.user is not None
    plugin = next((p for p in run.user.plugins if isinstance(p, QuotaPlugin)), None)
    if plugin is None:
        run.fail("Quota not enabled", EX_NOTFOUND)
    return plugin


def quota_rows(plugin: QuotaPlugin) -> list[tuple[str, str, str, str, str]]:
    """(root name, resource, value, limit, percent) as doveadm prints them."""
    rows = []
    for root in plugin.roots:
        usage = plugin.usage(root)
        storage_limit, message_limit = root.limits_for(None) or (0, 0)
        for resource in _RESOURCES:
            if resource == "STORAGE":
                # quota_get_resource() reports kilobytes, rounding up.
                value, limit = (usage.bytes + 1023) // 1024, (storage_limit + 1023) // 1024
            else:
                value, limit = usage.messages, message_limit
            if limit > 0:
                rows.append((root.name, resource, str(value), str(limit), str(value * 100 // limit)))
            else:
                rows.append((root.name, resource, str(value), "-", "0"))
    return rows


def cmd_get(ctx: CommandContext) -> int:
    _require_plugin(ctx)

    def setup(run: MailRun) -> None:
        run.printer.header("root", "Quota name")
        run.printer.header("type", "Type")
        run.printer.header("value", "Value", right=True)
        run.printer.header("limit", "Limit", right=True)
        run.printer.header("percent", "%", right=True)

    def per_user(run: MailRun) -> None:
        plugin = _quota_of(run)
        if plugin is None:
            return
        for row in quota_rows(plugin):
            run.begin_row()
            for text in row:
                run.printer.value(text)

    return run_mail_command(ctx, per_user, default_formatter="table", setup=setup)


def cmd_recalc(ctx: CommandContext) -> int:
    _require_plugin(ctx)

    def per_user(run: MailRun) -> None:
        plugin = _quota_of(run)
        if plugin is not None:
            plugin.recalculate()

    return run_mail_command(ctx, per_user)


@dataclass(frozen=True)
class _PluginCommand(Command):
    """A command a doveadm plugin registers: Dovecot adds no "-u/-A/-S" prefix to its usage."""

    @property
    def usage(self) -> str:
        return self.usage_text or ""


# Real doveadm lists "quota get|recalc" in its overview only when mail_plugins loads quota; our
# overview does not read the config, so it leaves them out (partial_group), as for a config
# without quota. `doveadm quota` still lists them.
GET = _PluginCommand(("quota", "get"), cmd_get, mail=True, needs_settings=True, usage_text="",
                     partial_group=True, help="Show the quota usage and limits")
RECALC = _PluginCommand(("quota", "recalc"), cmd_recalc, mail=True, needs_settings=True, usage_text="",
                        partial_group=True, help="Recalculate the quota usage")

COMMANDS = (GET, RECALC)
