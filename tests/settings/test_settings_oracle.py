"""The settings goldens and registry against the live doveconf 2.3.19 (skipped without it)."""

from __future__ import annotations

import pytest
import settings_oracle as oracle
from conftest import require_real_dovecot

from pydovecot.settings import AUTH_KEYS_REFUSED_IN_NET_FILTERS, ROOT, SECTION_TYPES
from pydovecot.settings.model import Kind

pytestmark = pytest.mark.oracle

GOLDENS = oracle.GOLDENS


def test_empty_config_dump_has_not_drifted() -> None:
    require_real_dovecot()
    live = oracle.without_banner(oracle.dump(oracle.EMPTY_CONF, "-a"))
    assert live == oracle.without_banner((GOLDENS / "doveconf_a_empty.txt").read_text())


def test_everything_dump_has_not_drifted() -> None:
    require_real_dovecot()
    live = oracle.without_banner(oracle.dump(oracle.EVERYTHING_CONF, "-a"))
    assert live == oracle.without_banner((GOLDENS / "doveconf_a_everything.txt").read_text())


@pytest.mark.parametrize("variant", ["empty", "everything"])
def test_module_dumps_have_not_drifted(variant: str) -> None:
    require_real_dovecot()
    conf = oracle.EMPTY_CONF if variant == "empty" else oracle.EVERYTHING_CONF
    for module in oracle.MODULES:
        live = oracle.without_banner(oracle.dump(conf, "-m", module, "-a"))
        golden = (GOLDENS / "modules" / variant / f"{module}.txt").read_text()
        assert live == oracle.without_banner(golden), module


def test_unknown_module_gets_only_the_every_module_settings() -> None:
    # which is why a setting read by every process lists all modules
    require_real_dovecot()
    printed = {
        line.split(" = ")[0]
        for line in oracle.without_banner(oracle.dump(oracle.EMPTY_CONF, "-m", "nosuch", "-a"))
    }
    assert printed == {s.name for s in ROOT.settings if len(s.modules) == len(oracle.MODULES)}


def _sample_per_kind(per_kind: int = 4) -> list[tuple[str, str]]:
    """Up to ``per_kind`` settings of each kind in each section, in declaration order."""
    chosen: dict[tuple[str, Kind], list[str]] = {}
    for section, key in oracle.probe_targets():
        stype = ROOT if section == "" else SECTION_TYPES[section]
        kind = stype.setting(key).kind
        picked = chosen.setdefault((section, kind), [])
        if len(picked) < per_kind:
            picked.append(key)
    return [(section, key) for (section, _), keys in chosen.items() for key in keys]


def test_kinds_confirmed_by_feeding_doveconf_bad_values() -> None:
    require_real_dovecot()
    sample = _sample_per_kind()
    kinds_seen = set()
    for section, key in sample:
        errors = {value: oracle.probe(section, key, value) for value in oracle.PROBE_VALUES}
        kind = (ROOT if section == "" else SECTION_TYPES[section]).setting(key).kind
        kinds_seen.add(kind)
        expected = "str" if kind in (Kind.STR, Kind.STR_VARS) else kind.value
        assert oracle.classify(errors) == expected, (section, key, errors)
    assert kinds_seen == set(Kind) - {Kind.LIST, Kind.STRLIST}


def test_kind_probe_golden_has_not_drifted_for_the_sample() -> None:
    require_real_dovecot()
    recorded = oracle.read_probes(GOLDENS / "kind_probes.tsv")
    for section, key in _sample_per_kind(2):
        live = {value: oracle.probe(section, key, value) for value in oracle.PROBE_VALUES}
        assert live == recorded[(section, key)], (section, key)


def test_auth_settings_refused_in_net_filters() -> None:
    require_real_dovecot()
    assert oracle.net_filter_refusals() == sorted(AUTH_KEYS_REFUSED_IN_NET_FILTERS)


def test_secret_settings_are_hidden_and_others_shown() -> None:
    require_real_dovecot()
    checked = 0
    for s in ROOT.settings:
        if s.kind not in (Kind.STR, Kind.STR_VARS):
            continue
        hidden = oracle.hidden_as_secret(s.name)
        if hidden is None:  # doveconf's checks reject "probe" for this setting
            continue
        assert hidden == s.secret, s.name
        checked += 1
    assert checked > 130
