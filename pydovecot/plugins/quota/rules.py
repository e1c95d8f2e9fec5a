"""Quota roots and rules as Dovecot 2.3 reads them from ``plugin { }``.

    quota = maildir:User quota:ignoreunlimited:noenforcing
    quota_rule = *:storage=10000M
    quota_rule2 = INBOX:messages=+10240
    quota_rule3 = INBOX/Trash:storage=+125M
    quota_rule4 = INBOX/Sent:ignore
    quota_rule5 = INBOX/Archiv:storage=+25%
    quota_grace = 10%

``storage=`` is in kilobytes unless it has a unit (``b``, ``k``, ``M``, ``G``, ``T``);
``bytes=`` is in bytes. In a mailbox rule, ``+N``/``-N`` adjust the default (``*``) limit and
``N%`` is a share of it; ``ignore`` leaves the mailbox out of the quota. 0 means unlimited.
A second root is ``quota2`` with rules ``quota2_rule``, ``quota2_rule2``...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_UNITS = {"": 1024, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
BACKENDS = ("count", "maildir", "dict", "fs", "imapc")


class QuotaConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Limit:
    """One rule's storage (bytes) and messages; None = not set by this rule."""

    storage: int | None = None
    storage_relative: str = ""  # "" absolute, "+"/"-": added to / taken from the default
    storage_percent: bool = False  # the number is a percentage of the default limit
    messages: int | None = None
    messages_relative: str = ""
    messages_percent: bool = False
    ignore: bool = False


@dataclass(frozen=True)
class QuotaRoot:
    setting: str  # "quota", "quota2", ...
    backend: str
    name: str
    options: tuple[str, ...]
    default: Limit
    mailbox_rules: dict[str, Limit] = field(default_factory=dict)
    grace_bytes: int | None = None
    grace_percent: int = 10

    @property
    def enforcing(self) -> bool:
        return "noenforcing" not in self.options

    def limits_for(self, vname: str | None) -> tuple[int, int] | None:
        """(storage bytes, messages) limits for a mailbox; 0 = unlimited; None when ignored."""
        storage = self.default.storage or 0
        messages = self.default.messages or 0
        rule = self.mailbox_rules.get(vname) if vname is not None else None
        if rule is None and vname is not None:
            rule = next((r for pat, r in self.mailbox_rules.items() if _wild(pat, vname)), None)
        if rule is not None:
            if rule.ignore:
                return None
            storage = _adjust(storage, rule.storage, rule.storage_relative, rule.storage_percent)
            messages = _adjust(messages, rule.messages, rule.messages_relative, rule.messages_percent)
        return storage, messages

    def grace(self, storage_limit: int) -> int:
        if self.grace_bytes is not None:
            return self.grace_bytes
        return storage_limit * self.grace_percent // 100


def _wild(pattern: str, name: str) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return False
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, name) is not None


def _adjust(base: int, value: int | None, sign: str, percent: bool) -> int:
    if value is None:
        return base
    amount = base * value // 100 if percent else value
    if sign == "+":
        # Relative to an unlimited default stays unlimited.
        return base + amount if base else 0
    if sign == "-":
        return max(base - amount, 0) if base else 0
    return amount


def parse_size(text: str, default_unit: str = "") -> int:
    match = re.fullmatch(r"(\d+)\s*([bkmgtBKMGT]?)", text.strip())
    if not match:
        raise QuotaConfigError(f"Invalid storage limit: {text}")
    unit = match.group(2).lower() or default_unit
    return int(match.group(1)) * _UNITS[unit]


def parse_limit(text: str) -> Limit:
    """The part after ``MAILBOX:`` of a rule."""
    if text.strip() == "ignore":
        return Limit(ignore=True)
    storage = messages = None
    storage_rel = messages_rel = ""
    storage_pct = messages_pct = False
    for item in text.split(":"):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq:
            if key == "ignore":
                return Limit(ignore=True)
            if key == "backend" or not key:
                continue
            raise QuotaConfigError(f"Unknown rule limit name: {key}")
        value = value.strip()
        rel = ""
        if value[:1] in "+-":
            rel, value = value[0], value[1:]
        pct = value.endswith("%")
        if pct:
            value = value[:-1]
            if not value.isdigit():
                raise QuotaConfigError(f"Invalid rule percentage: {value}")
        if key in ("storage", "bytes"):
            storage = int(value) if pct else parse_size(value, "" if key == "storage" else "b")
            storage_rel, storage_pct = rel, pct
        elif key == "messages":
            if not value.isdigit():
                raise QuotaConfigError(f"Invalid rule messages limit: {value}")
            messages, messages_rel, messages_pct = int(value), rel, pct
        else:
            raise QuotaConfigError(f"Unknown rule limit name: {key}")
    return Limit(storage, storage_rel, storage_pct, messages, messages_rel, messages_pct)


def _rule_keys(prefix: str, plugin: Mapping[str, str]) -> list[str]:
    keys = [f"{prefix}_rule"] if f"{prefix}_rule" in plugin else []
    n = 2
    while f"{prefix}_rule{n}" in plugin:
        keys.append(f"{prefix}_rule{n}")
        n += 1
    return keys


def parse_root(setting: str, value: str, plugin: Mapping[str, str]) -> QuotaRoot:
    parts = value.split(":")
    backend = parts[0].strip()
    if backend not in BACKENDS:
        raise QuotaConfigError(f"Unknown quota backend: {backend}")
    if backend in ("fs", "imapc"):
        raise QuotaConfigError(f"quota backend {backend} is not supported by pydovecot (use count or maildir)")
    name = parts[1] if len(parts) > 1 and parts[1] else setting
    options = tuple(p for p in parts[2:] if p)
    default = Limit()
    boxes: dict[str, Limit] = {}
    for key in _rule_keys(setting, plugin):
        mailbox, _, rest = plugin[key].partition(":")
        limit = parse_limit(rest)
        if mailbox == "*":
            default = limit
        else:
            boxes[mailbox] = limit
    grace_text = plugin.get(f"{setting}_grace", plugin.get("quota_grace", "10%"))
    grace_bytes, grace_percent = None, 10
    if grace_text.strip().endswith("%"):
        grace_percent = int(grace_text.strip()[:-1] or 0)
    elif grace_text.strip():
        grace_bytes = parse_size(grace_text, "b")
    return QuotaRoot(setting, backend, name, options, default, boxes, grace_bytes, grace_percent)


def quota_roots(plugin: Mapping[str, str]) -> list[QuotaRoot]:
    roots: list[QuotaRoot] = []
    if plugin.get("quota"):
        roots.append(parse_root("quota", plugin["quota"], plugin))
    n = 2
    while plugin.get(f"quota{n}"):
        roots.append(parse_root(f"quota{n}", plugin[f"quota{n}"], plugin))
        n += 1
    return roots
