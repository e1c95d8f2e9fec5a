"""The notify plugin: in Dovecot, the event bus that mail_log (and push_notification) listen on.

Here plugins see mailbox operations by wrapping the mailbox (hooks.py), so notify itself has
nothing to do; it is registered so that ``mail_plugins = notify mail_log`` loads quietly and
so that mail_log can require it, as Dovecot does.
"""

from __future__ import annotations

from .hooks import MailPlugin
from .registry import register


@register
class NotifyPlugin(MailPlugin):
    name = "notify"
