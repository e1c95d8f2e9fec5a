"""The expander: resolves each reference (table, aliases, built-ins, if/hash, env, functions)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .compare import compare
from .contexts import MAIL_USER, VariableContext
from .hashing import HASH_METHODS, PKCS5_LENGTH, PKCS5_ROUNDS, parse_uint, truncate_bits
from .modifiers import MODIFIERS, Range, apply_range
from .parse import scan
from .result import Expansion, ExpansionError, VarExpandFailure
from .text import to_bytes, to_text

# A caller-supplied %{name:data} function: gets ``data`` (text after the first ':'), returns the
# value (None means empty) or raises VarExpandFailure.
VarFunction = Callable[[str], "str | None"]

UNSUPPORTED_PREFIX = "UNSUPPORTED_VARIABLE_"
HASH_NAMES = {name.encode() for name in HASH_METHODS} | {b"pkcs5"}

@dataclass(frozen=True)
class ProcessInfo:
    """Built-in %{pid}, %{uid}, %{gid} and %{hostname} of the expanding process."""

    pid: str
    uid: str
    gid: str
    hostname: str

    @classmethod
    def current(cls) -> ProcessInfo:
        hostname = os.environ.get("DOVECOT_HOSTNAME") or socket.gethostname()
        return cls(str(os.getpid()), str(os.geteuid()), str(os.getegid()), hostname)

    def get(self, name: str) -> str | None:
        if name in ("pid", "uid", "gid", "hostname"):
            return str(getattr(self, name))
        return None


class _Expander:
    def __init__(
        self,
        table: Mapping[str, str | None],
        context: VariableContext,
        functions: Mapping[str, VarFunction],
        environ: Mapping[str, str] | None,
        process: ProcessInfo | None,
    ) -> None:
        self.table = table
        self.context = context
        self.functions = functions
        self.environ = environ
        self.process = process
        self.errors: list[ExpansionError] = []
        self.reported_error: str | None = None

    # Each resolver returns (value, status) like Dovecot: 1 ok, 0 unknown, -1 failed.

    def expand(self, template: bytes) -> tuple[bytes, int]:
        self.reported_error = None  # Dovecot clears the caller's error at every (nested) start
        out: list[bytes] = []
        status = 1
        for token in scan(template):
            if isinstance(token, bytes):
                out.append(token)
                continue
            if token.is_long:
                value, ret = self.resolve_long(token.key)
            else:
                value, ret = self.resolve_letter(token.key)
            status = min(status, ret)
            if ret < 1:
                # 2.3.19 writes the placeholder of an unknown or failed variable as it is:
                # no modifiers, no substring, no padding.
                out.append(value)
                continue
            rng = Range(token.offset, token.width)
            for mod in token.modifiers:
                value = MODIFIERS[mod](value, rng)
            out.append(apply_range(value, rng, token.zero_padding))
        return b"".join(out), status

    def unknown(self, name: bytes, *, letter: bool = False) -> tuple[bytes, int]:
        message = f"Unknown variable '%{to_text(name)}'"
        self.errors.append(ExpansionError("unknown", message))
        if not letter or self.reported_error is None:
            self.reported_error = message
        return to_bytes(UNSUPPORTED_PREFIX) + name, 0

    def failed(self, message: str) -> tuple[bytes, int]:
        self.errors.append(ExpansionError("failed", message))
        self.reported_error = message
        return b"", -1

    def table_value(self, key: str) -> bytes:
        value = self.table.get(key)
        return b"" if value is None else to_bytes(value)

    def resolve_letter(self, letter: bytes) -> tuple[bytes, int]:
        name = self.context.name_for_letter(to_text(letter))
        if name is not None:
            return self.table_value(name), 1
        if letter == b"%":
            return b"%", 1
        return self.unknown(letter, letter=True)

    def resolve_long(self, raw: bytes) -> tuple[bytes, int]:
        key = to_text(raw)
        if key in self.table and not key.startswith("%"):
            return self.table_value(key), 1
        canonical = self.context.canonical(key)
        if canonical is not None:
            return self.table_value(canonical), 1
        if self.process is None:
            self.process = ProcessInfo.current()
        builtin = self.process.get(key)
        if builtin is not None:
            return to_bytes(builtin), 1
        name, colon, data = raw.partition(b":")
        ext_name = name.split(b";", 1)[0].lower()
        if ext_name == b"if":
            return self.conditional(name + b":" + data)
        if ext_name in HASH_NAMES:
            return self.hash(name, data)
        if name == b"env":
            environ = os.environ if self.environ is None else self.environ
            return to_bytes(environ.get(to_text(data), "")), 1
        func = self.functions.get(to_text(name))
        if func is not None:
            try:
                result = func(to_text(data))
            except VarExpandFailure as exc:
                return self.failed(str(exc))
            return (b"" if result is None else to_bytes(result)), 1
        return self.unknown(name)

    def hash(self, name: bytes, field_name: bytes) -> tuple[bytes, int]:
        algo, _, arg_text = name.partition(b";")
        algo_s = to_text(algo)
        pkcs5 = algo_s == "pkcs5"
        method = HASH_METHODS.get("sha256" if pkcs5 else algo_s)
        if method is None:
            # Matched case-insensitively as a hash name, but the method lookup is exact:
            # Dovecot then yields "" and reports no error text.
            self.errors.append(ExpansionError("unknown", f"Unknown hash method '{algo_s}'"))
            return b"", 0
        digest_fn, digest_size = method
        value, ret = self.resolve_long(field_name)
        if ret < 1:
            return b"", ret
        rounds = PKCS5_ROUNDS if pkcs5 else 1
        salt = field_name if pkcs5 else b""
        truncbits = 0
        fmt = "hex"
        for arg in arg_text.split(b",") if b";" in name else []:
            key, eq, val = arg.partition(b"=")
            if not eq:
                continue
            if key == b"rounds":
                parsed = parse_uint(val)
                if parsed is None:
                    return self.failed(f"Cannot parse hash arguments:'{to_text(val)}' is not number for rounds")
                if parsed < 1:
                    return self.failed("Cannot parse hash arguments:rounds must be at least 1")
                rounds = parsed
            elif key == b"truncate":
                parsed = parse_uint(val)
                if parsed is None:
                    return self.failed(f"Cannot parse hash arguments:'{to_text(val)}' is not number for truncbits")
                truncbits = min(parsed, digest_size * 8)
            elif key == b"salt":
                salt, salt_ret = self.expand(val)
                if salt_ret < 0:
                    return b"", -1
                break  # Dovecot stops reading arguments after the salt
            elif key == b"format":
                if val not in (b"hex", b"hexuc", b"base64"):
                    return self.failed(f"Cannot parse hash arguments:'{to_text(val)}' is not supported format")
                fmt = to_text(val)
        if pkcs5:
            digest = hashlib.pbkdf2_hmac("sha256", value, salt, rounds, PKCS5_LENGTH)
        else:
            digest = value
            for _ in range(rounds):
                digest = digest_fn(salt + digest)
        if truncbits > 0:
            digest = truncate_bits(digest, truncbits)
        if fmt == "base64":
            return base64.b64encode(digest), 1
        # format=hexuc is accepted but 2.3.19 still prints lowercase hex (a Dovecot bug we keep).
        return digest.hex().encode(), 1

    def conditional(self, text: bytes) -> tuple[bytes, int]:
        """%{if;value1;op;value2;then[;else]}: split on unnested ';', expand each part, compare."""
        semi = text.find(b";")
        if semi < 0:
            return self.failed("if: missing parameter(s)")
        params: list[bytes] = []
        buf = bytearray()
        depth = 0
        escaped = False
        maybe_var = False
        for c in text[semi + 1 :]:
            if c == 0x5C:  # backslash: the next character is taken literally
                escaped = True
                continue
            if escaped:
                buf.append(c)
                escaped = False
                continue
            if c == 0x25:
                maybe_var = True
            elif maybe_var and c == 0x7B:
                depth += 1
                maybe_var = False
            elif depth > 0 and c == 0x7D:
                depth -= 1
            elif depth == 0 and c == 0x3B:
                params.append(bytes(buf))
                buf = bytearray()
                continue
            elif depth == 0 and c == 0x3A:
                break  # an unescaped ':' ends the conditional
            buf.append(c)
        if buf:
            params.append(bytes(buf))
        if len(params) == 4:
            params.append(b"")
        if len(params) != 5:
            return self.failed(f"if: requires four or five parameters, got {len(params)}")
        values: list[bytes] = []
        for param in params:
            value, ret = self.expand(param)
            if ret <= 0:
                return b"", ret
            values.append(value)
        lhs, op, rhs, if_true, if_false = values
        result = compare(lhs, to_text(op), rhs)
        if isinstance(result, str):
            return self.failed(result)
        return (if_true if result else if_false), 1


def expand(
    template: str,
    table: Mapping[str, str | None],
    *,
    context: VariableContext = MAIL_USER,
    functions: Mapping[str, VarFunction] | None = None,
    environ: Mapping[str, str] | None = None,
    process: ProcessInfo | None = None,
) -> Expansion:
    """Expand ``template`` with ``table`` (long name -> value; None means empty).

    ``context`` says which letters exist and what they mean (``%k`` is the client certificate
    in AUTH but the TLS state in LOGIN).  Lookup order for ``%{name}``: the table, the context's
    variables and deprecated aliases, built-ins (pid, uid, gid, hostname from ``process``),
    ``if``/hash functions, ``env:`` (from ``environ``, default ``os.environ``), then
    ``functions`` (e.g. ``{"userdb": field_function(userdb_fields)}``).
    """
    expander = _Expander(table, context, functions or {}, environ, process)
    data, status = expander.expand(to_bytes(template))
    return Expansion(to_text(data), status, tuple(expander.errors), expander.reported_error)


def field_function(fields: Mapping[str, str]) -> VarFunction:
    """``%{userdb:name[:default]}``/``%{passdb:...}``: a field, or the default when it is absent.

    A field that exists with an empty value stays empty (the default is not used).
    """

    def lookup(data: str) -> str:
        name, _, default = data.partition(":")
        value = fields.get(name)
        return default if value is None else value

    return lookup
