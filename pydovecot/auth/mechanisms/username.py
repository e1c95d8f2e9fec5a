"""Dovecot's username handling that every mechanism goes through (auth_request_set_username).

A mechanism never trusts the name it parsed: it is put through auth_default_realm,
auth_username_translation, auth_username_chars and auth_username_format here, in that order,
and an authorization identity (authzid) is accepted only for a master user login.
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import AuthRequestContext, UsernameRules


def to_text(data: bytes) -> str:
    """Client bytes as a str that maps back to the same bytes (see events.py)."""
    return data.decode("utf-8", "surrogateescape")


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def str_sanitize(text: str, max_bytes: int) -> str:
    """Dovecot's str_sanitize(): control characters and invalid UTF-8 become '?', and a string
    longer than `max_bytes` is cut at a character boundary and ends in "..."."""
    raw = to_bytes(text)
    pieces: list[str] = []
    i = 0
    while i < len(raw):
        char, width = _utf8_char_at(raw, i)
        pieces.append("?" if char is None or ord(char) < 0x20 else char)
        i += width
    out: list[str] = []
    used = 0
    total = sum(len(p.encode()) for p in pieces)
    if total <= max_bytes:
        return "".join(pieces)
    for piece in pieces:
        size = len(piece.encode())
        if used + size > max_bytes - 3:
            break
        out.append(piece)
        used += size
    return "".join(out) + "..."


def _utf8_char_at(raw: bytes, i: int) -> tuple[str | None, int]:
    lead = raw[i]
    width = 1 if lead < 0x80 else 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else \
        4 if 0xF0 <= lead < 0xF5 else 0
    if width == 0:
        return None, 1
    try:
        return raw[i:i + width].decode("utf-8"), width
    except UnicodeDecodeError:
        return None, 1


def _translation_map(rules: UsernameRules) -> dict[int, int]:
    pairs = to_bytes(rules.username_translation)
    return {pairs[k]: pairs[k + 1] for k in range(0, len(pairs) - 1, 2)}


def fix_username(name: str, rules: UsernameRules) -> tuple[str | None, str | None]:
    """(fixed username, None) or (None, error) as auth_request_fix_username() decides."""
    user = name
    if rules.default_realm and "@" not in user:
        user = user + "@" + rules.default_realm
    translation = _translation_map(rules)
    allowed = set(to_bytes(rules.username_chars))
    fixed = bytearray()
    for byte in to_bytes(user):
        byte = translation.get(byte, byte)
        if allowed and byte not in allowed:
            return None, ("Username character disallowed by auth_username_chars: "
                          f"0x{byte:02x} (username: {str_sanitize(name, 128)})")
        fixed.append(byte)
    user = to_text(bytes(fixed))
    if rules.username_format is not None:
        user = rules.username_format(user)
    if user == "":
        return None, "Empty username"
    return user, None


@dataclass
class RequestFields:
    """The username-related fields of Dovecot's auth_request that mechanisms change."""

    user: str | None = None
    original_user: str | None = None  # as the client gave it, before translations
    translated_user: str | None = None
    login_user: str | None = None  # requested login user of a master user login
    realm: str | None = None  # DIGEST-MD5's realm directive
    domain_is_realm: bool = False
    user_from_cert: bool = False

    @classmethod
    def for_request(cls, context: AuthRequestContext) -> RequestFields:
        fields = cls()
        if context.cert_username:
            # The certificate's name overrides whatever the mechanism parses (but still goes
            # through the username rules when the mechanism sets its name).
            fields.user = context.cert_username
            fields.user_from_cert = True
        return fields

    def failure_user(self) -> str | None:
        """What Dovecot puts in FAIL's user=: the username, else the one the client gave."""
        return self.user if self.user is not None else self.original_user

    def set_username(self, name: str, context: AuthRequestContext) -> str | None:
        """Set the authenticating user; returns an error message or None."""
        rules = context.username_rules
        login_user = None
        if rules.master_user_separator and rules.master_user_separator in name:
            # "login*master": authenticate as master, then log in as login.
            login_user, _, name = name.partition(rules.master_user_separator)
        if self.original_user is None:
            self.original_user = name
        if self.user_from_cert and self.user is not None:
            name = self.user
        fixed, error = fix_username(name, rules)
        if fixed is None:
            self.user = None
            return error
        self.user = fixed
        if self.translated_user is None:
            self.translated_user = fixed
        if login_user is not None:
            return self.set_login_username(login_user, context)
        return None

    def set_login_username(self, name: str, context: AuthRequestContext) -> str | None:
        """Accept an authorization identity: only a master user may log in as someone else."""
        if name == "":
            return "Master user login attempted to use empty login username"
        if name == self.user:
            return None  # the same user: nothing to authorize
        if not context.has_master_passdbs:
            return "Master user login attempted without master passdbs"
        fixed, error = fix_username(name, context.username_rules)
        if fixed is None:
            self.login_user = None
            return error
        self.login_user = fixed
        return None
