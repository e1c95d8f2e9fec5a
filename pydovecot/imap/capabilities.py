"""The CAPABILITY strings, built as Dovecot 2.3.19 builds them from the same settings.

Before login (imap-login): the banner list, `imap_capability` (replacing the list, or appended
to it with a leading `+`), LITERAL+/LITERAL- (unless the list was replaced), STARTTLS while TLS
is possible but not active, LOGINDISABLED when plaintext logins are refused, then one AUTH= per
mechanism the auth service offers this connection. After login (imap): the full list, the
`+` additions, LITERAL+/-, NOTIFY with the mailbox list index, METADATA with imap_metadata and
a mail_attribute_dict, and SPECIAL-USE when a namespace names special-use mailboxes; an explicit `imap_capability` is sent as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BANNER = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE"
POST_LOGIN = (
    BANNER + " SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND"
    " URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE"
    " QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY"
    " PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE"
)
# Mechanisms that send the password in the clear: refused without TLS under disable_plaintext_auth.
PLAINTEXT_FLAG = "plaintext"
PRIVATE_FLAG = "private"


@dataclass(frozen=True)
class CapabilitySettings:
    imap_capability: str = ""
    imap_literal_minus: bool = False
    mailbox_list_index: bool = True

    @classmethod
    def from_node(cls, node: object) -> CapabilitySettings:
        get = node.get  # type: ignore[attr-defined]
        return cls(str(get("imap_capability") or ""), bool(get("imap_literal_minus")),
                   bool(get("mailbox_list_index")))

    def _base(self, default: str) -> tuple[str, bool]:
        """The list to start from and whether it was given explicitly."""
        configured = self.imap_capability
        if not configured:
            return default, False
        if configured.startswith("+"):
            return f"{default} {configured[1:]}", False
        return configured, True

    @property
    def literal(self) -> str:
        return "LITERAL-" if self.imap_literal_minus else "LITERAL+"


def pre_login(settings: CapabilitySettings, *, mechanisms: Mapping[str, Iterable[str]],
              starttls: bool, login_disabled: bool, secured: bool) -> str:
    text, explicit = settings._base(BANNER)
    parts = [text]
    if not explicit:
        parts.append(settings.literal)
    if starttls:
        parts.append("STARTTLS")
    if login_disabled:
        parts.append("LOGINDISABLED")
    parts.extend(f"AUTH={name}" for name in advertised_mechanisms(mechanisms, secured=secured,
                                                                    plaintext_ok=not login_disabled))
    return " ".join(parts)


def advertised_mechanisms(mechanisms: Mapping[str, Iterable[str]], *, secured: bool,
                          plaintext_ok: bool) -> list[str]:
    out = []
    for name, flags in mechanisms.items():
        flag_set = set(flags)
        if PRIVATE_FLAG in flag_set:
            continue
        if PLAINTEXT_FLAG in flag_set and not secured and not plaintext_ok:
            continue
        out.append(name)
    return out


def post_login(settings: CapabilitySettings, *, special_use: bool, plugins: Iterable[object] = (),
               metadata: bool = False) -> str:
    """``plugins``: the user's mail plugins; their ``capabilities`` (QUOTA from imap_quota) come
    last, in load order, as Dovecot's client-created hooks append them."""
    text, explicit = settings._base(POST_LOGIN)
    if explicit:
        return text
    parts = [text, settings.literal]
    if settings.mailbox_list_index:
        parts.append("NOTIFY")
    if metadata:
        parts.append("METADATA")
    if special_use:
        parts.append("SPECIAL-USE")
    for plugin in plugins:
        parts.extend(getattr(plugin, "capabilities", ()))
    return " ".join(parts)
