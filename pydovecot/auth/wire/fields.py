"""Reply fields (passdb extra fields, userdb fields) as Dovecot's auth_fields writes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .tabescape import tab_escape


@dataclass(frozen=True)
class AuthField:
    key: str
    value: str = ""
    # Hidden fields travel inside the auth process only (e.g. passdb "userdb_*" prefetch fields):
    # they are never written, yet they make the field list non-empty (see `AuthFields.append_to`).
    hidden: bool = False


@dataclass(frozen=True)
class AuthFields:
    items: tuple[AuthField, ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] = (), *, hidden: Iterable[tuple[str, str]] = ()) -> AuthFields:
        return cls(tuple(AuthField(k, v) for k, v in pairs) + tuple(AuthField(k, v, True) for k, v in hidden))

    def __bool__(self) -> bool:
        return bool(self.items)

    def has(self, key: str) -> bool:
        return any(f.key == key for f in self.items)

    def get(self, key: str) -> str | None:
        for f in self.items:
            if f.key == key:
                return f.value
        return None

    def visible(self) -> str:
        """The visible fields, tab-separated: `key=value`, a bare `key` for an empty value."""
        return "\t".join(f.key + ("=" + tab_escape(f.value) if f.value else "")
                         for f in self.items if not f.hidden)

    def append_to(self, line: str) -> str:
        """Dovecot adds a TAB as soon as there are any fields, hidden or not, which is why an
        OK whose fields are all hidden ends in a TAB (`OK\\t1\\tuser=alice\\t`)."""
        if not self.items:
            return line
        return line + "\t" + self.visible()


NO_FIELDS = AuthFields()
