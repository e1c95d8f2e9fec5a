"""dict-sql map files: how a dict (quota, acl shared mailboxes...) maps onto SQL tables.

    connect = host=127.0.0.1 dbname=mail user=dovecot
    map {
      pattern = priv/quota/storage
      table = quota
      username_field = username
      value_field = bytes
    }

Rules and messages follow Dovecot 2.3's dict-sql settings reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydovecot.config import parser as p
from pydovecot.config.errors import ConfigError
from pydovecot.config.ext import reader
from pydovecot.config.ext.reader import BOOL, ExtSetting

MAP_SETTINGS = {s.name: s for s in (
    ExtSetting("pattern"), ExtSetting("table"), ExtSetting("username_field"), ExtSetting("value_field"),
    ExtSetting("value_type"), ExtSetting("value_hexblob", BOOL),
)}
VALUE_TYPES = ("string", "hexblob", "int", "uint")


@dataclass(frozen=True)
class SqlField:
    name: str
    value_type: str = "string"


@dataclass(frozen=True)
class DictSqlMap:
    pattern: str  # variables replaced by plain '$', in the order of ``fields``
    table: str
    username_field: str
    value_fields: tuple[str, ...]
    value_types: tuple[str, ...]
    fields: tuple[SqlField, ...]


@dataclass
class _MapBuilder:
    values: dict[str, object] = field(default_factory=dict)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (sql name, variable, type)
    sql_fields: list[SqlField] | None = None
    pattern: str | None = None


def _read_variable(pattern: str, pos: int) -> tuple[str, int]:
    if pos < len(pattern) and pattern[pos] == "{":
        end = pattern.find("}", pos + 1)
        if end < 0:
            return "", len(pattern)
        return pattern[pos + 1:end], end + 1
    end = pos
    while end < len(pattern) and (pattern[end].isalnum() or pattern[end] == "_"):
        end += 1
    return pattern[pos:end], end


def _map_fields(builder: _MapBuilder) -> str | None:
    """Pairs each $variable of the pattern with its field; the error text, if any."""
    pattern = str(builder.values.get("pattern", ""))
    unused = list(builder.fields)
    out, sql_fields, pos = [], [], 0
    while pos < len(pattern):
        if pattern[pos] != "$":
            out.append(pattern[pos])
            pos += 1
            continue
        out.append("$")
        name, pos = _read_variable(pattern, pos + 1)
        match = next((f for f in unused if f[1] == name), None)
        if match is None:
            return f"Missing SQL field for variable: {name}"
        unused.remove(match)
        sql_fields.append(SqlField(match[0], match[2]))
    if unused:
        return f"Unused variable: {unused[0][1]}"
    builder.sql_fields = sql_fields
    builder.pattern = "".join(out)
    return None


def _finish_map(builder: _MapBuilder) -> DictSqlMap:
    values = builder.values
    for required in ("pattern", "table", "value_field"):
        if required not in values:
            raise ValueError(f"Missing setting: {required}")
    value_fields = tuple(v for v in str(values["value_field"]).replace(",", " ").split())
    if "value_type" in values:
        types = tuple(str(values["value_type"]).replace(",", " ").split())
        if len(types) != len(value_fields):
            raise ValueError("Number of fields in value_fields doesn't match value_type")
        if any(t not in VALUE_TYPES for t in types):
            raise ValueError("Invalid value in value_type")
    else:
        types = tuple("hexblob" if values.get("value_hexblob") else "string" for _ in value_fields)
    if builder.sql_fields is None and "$" in str(values["pattern"]):
        raise ValueError("Missing fields for pattern variables")
    return DictSqlMap(
        pattern=builder.pattern if builder.pattern is not None else str(values["pattern"]),
        table=str(values["table"]),
        username_field=str(values.get("username_field", "'username_field not set'")),
        value_fields=value_fields,
        value_types=types,
        fields=tuple(builder.sql_fields or ()),
    )


def _field(key: str, value: str) -> tuple[str, str, str]:
    if not value.startswith("$"):
        raise ValueError(f"Value is missing '$' for field: {key}")
    for kind in ("hexblob", "int", "uint"):
        prefix = "${" + kind + ":"
        if value.startswith(prefix) and value.endswith("}"):
            return key, value[len(prefix):-1], kind
    return key, value[1:], "string"


@dataclass(frozen=True)
class DictSqlConf:
    path: str
    connect: str
    maps: tuple[DictSqlMap, ...]


def load(path: str) -> DictSqlConf:
    connect: str | None = None
    maps: list[DictSqlMap] = []
    section: list[str] = []  # "map", "fields"
    current = _MapBuilder()
    for st in reader.statements(path):
        try:
            if st.kind == p.SECTION_OPEN:
                expected = {(): "map", ("map",): "fields"}.get(tuple(section))
                if st.key != expected:
                    raise ValueError(f"Unknown section: {st.key}")
                section.append(st.key)
                if st.key == "map":
                    current = _MapBuilder()
            elif st.kind == p.SECTION_CLOSE:
                closed = section.pop()
                if closed == "fields":
                    error = _map_fields(current)
                    if error:
                        raise ValueError(error)
                else:
                    maps.append(_finish_map(current))
            elif not section:
                if st.key != "connect":
                    raise ValueError(f"Unknown setting: {st.key}")
                connect = st.value
            elif section == ["map"]:
                setting = MAP_SETTINGS.get(st.key)
                if setting is None:
                    raise ValueError(f"Unknown setting: {st.key}")
                current.values[st.key] = reader.convert(setting, st.value)
            else:
                current.fields.append(_field(st.key, st.value))
        except ValueError as e:
            raise ConfigError(str(e), st.path, st.line) from None
    if connect is None:
        raise ConfigError("Missing connect setting", path)
    return DictSqlConf(path=path, connect=connect, maps=tuple(maps))
