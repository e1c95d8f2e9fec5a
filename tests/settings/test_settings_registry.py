"""The settings registry against goldens recorded from real doveconf 2.3.19 (no Dovecot needed).

The strongest check renders `doveconf -a` for an empty config from the registry alone
(top-level defaults + built-in services flattened over their section defaults) and
compares it line by line with the recorded output.
"""

from __future__ import annotations

import re

import pytest
import settings_oracle as oracle

from pydovecot.settings import (
    AUTH_KEYS_REFUSED_IN_NET_FILTERS,
    DEFAULT_INSTANCES,
    ROOT,
    SECTION_TYPES,
    setting,
)
from pydovecot.settings.model import DefaultInstance, Kind, SectionType, Setting

GOLDENS = oracle.GOLDENS
LISTS = (Kind.LIST, Kind.STRLIST)


# -- a minimal `doveconf -a` printer, written here only to check the registry -------------


def quote(value: str) -> str:
    """doveconf quotes a value holding '#' or starting/ending with a space or tab."""
    if value and ("#" in value or value[0] in " \t" or value[-1] in " \t"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def sort_key(name: str) -> str:
    # doveconf sorts the full "section/name/key" paths, so a name sorts as if "/" followed it
    # ("auth-worker" before "auth").
    return name + "/"


def render_instance(inst: DefaultInstance, indent: str) -> list[str]:
    stype = SECTION_TYPES[inst.section]
    values = dict(inst.values)
    entries: list[tuple[str, list[str]]] = []
    for s in stype.settings:
        if s.kind in LISTS or s.hidden or (stype.unique and s.name == stype.key):
            continue
        line = f"{indent}  {s.name} = {quote(values.get(s.name, s.default))}"
        entries.append((s.name, [line]))
    for child in inst.children:
        entries.append((f"{child.section} {sort_key(child.name)}", render_instance(child, indent + "  ")))
    lines = [f"{indent}{inst.section} {inst.name} {{"]
    for _, block in sorted(entries, key=lambda e: e[0]):
        lines.extend(block)
    lines.append(f"{indent}}}")
    return lines


def render_empty_config_dump() -> list[str]:
    entries: list[tuple[str, list[str]]] = []
    for s in ROOT.settings:
        if s.kind in LISTS or s.hidden:
            continue
        entries.append((s.name, [f"{s.name} = {quote(s.default)}"]))
    for inst in DEFAULT_INSTANCES:
        entries.append((f"{inst.section} {sort_key(inst.name)}", render_instance(inst, "")))
    lines: list[str] = []
    for _, block in sorted(entries, key=lambda e: e[0]):
        lines.extend(block)
    return lines


# -- golden parsing --------------------------------------------------------------------------


def golden_lines(path) -> list[str]:
    return oracle.without_banner(path.read_text())


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def top_level(lines: list[str]) -> dict[str, str | None]:
    """Top-level key -> value (None for a section header) of a dump."""
    out: dict[str, str | None] = {}
    for line in lines:
        if line.startswith(" ") or line == "}":
            continue
        if line.endswith("{"):
            out.setdefault(line.split()[0], None)
        else:
            key, _, value = line.partition(" = ")
            out[key] = unquote(value)
    return out


def block(lines: list[str], header: str) -> dict[str, str]:
    """key -> value of the direct settings of the section opened by ``header`` (any depth)."""
    for i, line in enumerate(lines):
        if line.strip() == header + " {":
            depth = len(line) - len(line.lstrip())
            values: dict[str, str] = {}
            nested = 0
            for inner in lines[i + 1 :]:
                text = inner.strip()
                if nested == 0 and text == "}" and len(inner) - len(inner.lstrip()) == depth:
                    return values
                if text.endswith("{"):
                    nested += 1
                elif text == "}":
                    nested -= 1
                elif nested == 0:
                    key, _, value = text.partition(" = ")
                    values[key.rstrip(" =")] = unquote(value)
    raise KeyError(header)


def all_section_types() -> list[SectionType]:
    return [ROOT, *SECTION_TYPES.values()]


# -- the tests -------------------------------------------------------------------------------


def test_registry_renders_the_recorded_empty_config_dump_exactly() -> None:
    expected = golden_lines(GOLDENS / "doveconf_a_empty.txt")
    assert render_empty_config_dump() == expected


def test_every_printed_key_and_default_is_declared() -> None:
    printed = top_level(golden_lines(GOLDENS / "doveconf_a_empty.txt"))
    for key, value in printed.items():
        s = setting(key)
        assert s is not None, key
        if value is not None:
            assert s.default == value, key
            assert not s.hidden, key
    declared_visible = {s.name for s in ROOT.settings if not s.hidden and s.kind not in LISTS}
    assert declared_visible == {k for k, v in printed.items() if v is not None}


def test_hidden_settings_have_the_defaults_doveconf_prints_when_set() -> None:
    # everything.conf sets each hidden setting to its default (or "probe" when it has none).
    printed = top_level(golden_lines(GOLDENS / "doveconf_a_everything.txt"))
    hidden = [s for s in ROOT.settings if s.hidden]
    assert len(hidden) == 17
    for s in hidden:
        assert printed[s.name] == (s.default or "probe"), s.name


def test_section_type_defaults_match_a_configured_instance() -> None:
    lines = golden_lines(GOLDENS / "doveconf_a_everything.txt")
    headers = {
        "service": "service probe",
        "unix_listener": "unix_listener probe-unix",
        "fifo_listener": "fifo_listener probe-fifo",
        "inet_listener": "inet_listener probe-inet",
        "namespace": "namespace probe",
        "mailbox": "mailbox probe",
        "passdb": "passdb",
        "userdb": "userdb",
        "metric": "metric probe",
        "event_exporter": "event_exporter probe",
    }
    # what everything.conf sets beyond the defaults
    configured = {
        "passdb": {"driver": "pam"},
        "userdb": {"driver": "passwd"},
        "metric": {"filter": "event=x"},
        "event_exporter": {"format": "json", "format_args": "time-rfc3339", "transport": "log"},
    }
    assert set(headers) | {"plugin", "dict"} == set(SECTION_TYPES)
    for name, header in headers.items():
        stype = SECTION_TYPES[name]
        printed = block(lines, header)
        expected = {
            s.name: configured.get(name, {}).get(s.name, s.default)
            for s in stype.settings
            if s.kind not in LISTS and not s.hidden and not (stype.unique and s.name == stype.key)
        }
        assert printed == expected, name


def test_free_form_sections_print_their_pairs() -> None:
    lines = golden_lines(GOLDENS / "doveconf_a_everything.txt")
    for name in ("plugin", "dict"):
        assert SECTION_TYPES[name].key is None
        assert SECTION_TYPES[name].settings == ()
        assert block(lines, name) == {"probe": "value"}
        assert setting(name).kind is Kind.STRLIST


def test_enum_defaults_are_the_first_value() -> None:
    enums = [s for t in all_section_types() for s in t.settings if s.kind is Kind.ENUM]
    assert len(enums) == 26
    for s in enums:
        assert s.values and s.values[0] == s.default, s.name
        assert len(set(s.values)) == len(s.values), s.name
    for t in all_section_types():
        for s in t.settings:
            if s.kind is not Kind.ENUM:
                assert s.values == (), s.name


def test_names_are_unique_per_section() -> None:
    for t in all_section_types():
        names = [s.name for s in t.settings]
        assert len(names) == len(set(names)), t.name
        for alias, target in t.aliases:
            assert alias not in names and target in names, (t.name, alias)


def test_lists_point_to_declared_section_types() -> None:
    for t in all_section_types():
        for s in t.settings:
            if s.kind in LISTS:
                assert s.section in SECTION_TYPES, s.name
                stype = SECTION_TYPES[s.section]
                assert (stype.key is None) == (s.kind is Kind.STRLIST), s.name
                assert s.default == ""
            else:
                assert s.section is None, s.name
        if t.key is not None:
            assert t.setting(t.key) is not None, t.name


def test_section_type_modules_are_those_of_the_list_holding_them() -> None:
    for s in ROOT.settings:
        if s.kind in LISTS:
            assert SECTION_TYPES[s.section].modules == s.modules, s.name
    assert SECTION_TYPES["mailbox"].modules == SECTION_TYPES["namespace"].modules
    for listener in ("unix_listener", "fifo_listener", "inet_listener"):
        assert SECTION_TYPES[listener].modules == ("master",)


def test_default_instances_use_declared_settings() -> None:
    def check(inst: DefaultInstance) -> None:
        stype = SECTION_TYPES[inst.section]
        for key, _ in inst.values:
            s = stype.setting(key)
            assert s is not None and s.kind not in LISTS, (inst.name, key)
        for child in inst.children:
            holder = stype.setting(child.section)
            assert holder is not None and holder.kind is Kind.LIST, child.section
            check(child)

    assert len(DEFAULT_INSTANCES) == 30
    for inst in DEFAULT_INSTANCES:
        assert inst.section == "service"
        check(inst)


def test_secret_is_the_key_name_rule() -> None:
    # doveconf 2.3.19 hides a non-empty value when the key ends in _password, _key or
    # _nonce, or starts with ssl_dh (whatever the section, plugin keys included).
    for t in all_section_types():
        for s in t.settings:
            by_name = s.name.endswith(("_password", "_key", "_nonce")) or s.name.startswith("ssl_dh")
            assert s.secret == by_name, s.name
    assert {s.name for s in ROOT.settings if s.secret} == {
        "auth_policy_hash_nonce", "doveadm_api_key", "doveadm_password", "imapc_password",
        "pop3c_password", "ssl_alt_key", "ssl_client_key", "ssl_dh", "ssl_key", "ssl_key_password",
        "submission_relay_password",
    }  # fmt: skip


def test_every_setting_has_a_one_line_doc() -> None:
    for t in all_section_types():
        for s in t.settings:
            assert s.doc and "\n" not in s.doc and s.doc.endswith("."), s.name
        assert t is ROOT or t.doc


def test_setting_lookup() -> None:
    assert setting("mail_location") is not None and setting("mail_location").kind is Kind.STR_VARS
    assert setting("mail") is None  # an alias, not a setting
    assert ("mail", "mail_location") in ROOT.aliases
    assert setting("no_such_setting") is None
    assert isinstance(setting("ssl"), Setting)


# -- modules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["empty", "everything"])
@pytest.mark.parametrize("module", oracle.MODULES)
def test_modules_match_doveconf_m(module: str, variant: str) -> None:
    printed = set(top_level(golden_lines(GOLDENS / "modules" / variant / f"{module}.txt")))
    if variant == "empty":
        # only settings with a value and the built-in services are printed
        expected = {
            s.name
            for s in ROOT.settings
            if module in s.modules and not s.hidden and (s.kind not in LISTS or s.name == "service")
        }
    else:
        expected = {s.name for s in ROOT.settings if module in s.modules}
    assert printed == expected


def test_module_names_are_known() -> None:
    for s in ROOT.settings:
        assert s.modules, s.name
        assert set(s.modules) <= set(oracle.MODULES), s.name
        assert list(s.modules) == sorted(s.modules), s.name


def test_auth_keys_refused_in_net_filters_match_the_recorded_probe() -> None:
    recorded = (GOLDENS / "net_filter_refused.txt").read_text().split()
    assert sorted(AUTH_KEYS_REFUSED_IN_NET_FILTERS) == recorded
    # every one of them is read by the auth module
    for name in recorded:
        assert "auth" in setting(name).modules, name


# -- kinds -----------------------------------------------------------------------------------


def test_every_plain_setting_was_probed() -> None:
    probes = oracle.read_probes(GOLDENS / "kind_probes.tsv")
    assert set(probes) == set(oracle.probe_targets())


def test_kinds_explain_doveconfs_errors_for_bad_values() -> None:
    probes = oracle.read_probes(GOLDENS / "kind_probes.tsv")
    for (section, key), errors in probes.items():
        stype = ROOT if section == "" else SECTION_TYPES[section]
        kind = stype.setting(key).kind
        expected = "str" if kind in (Kind.STR, Kind.STR_VARS) else kind.value
        assert oracle.classify(errors) == expected, (section, key, errors)


def test_classify_knows_each_kinds_message() -> None:
    # guards the classifier itself with the messages doveconf 2.3.19 gives
    ok = {v: "" for v in oracle.PROBE_VALUES}
    assert oracle.classify(ok) == "str"
    assert oracle.classify({**ok, "maybe": "Invalid boolean value: maybe (use yes or no)"}) == "bool"
    missing_units = "Time interval '3600' is missing units (add e.g. 's' for seconds)"
    assert oracle.classify({**ok, "3600": missing_units}) == "time_msecs"
    assert oracle.classify({**ok, "100ms": "Milliseconds not supported for this setting: 100ms"}) == "time"
    assert oracle.classify({**ok, "0x1": "Invalid number: 0x1"}) == "octal"
    assert oracle.classify({**ok, "0x1": "Invalid number 0x1: Not a valid number"}) == "uint"
