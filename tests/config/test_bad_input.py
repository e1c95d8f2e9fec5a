"""Hostile and broken configuration inputs: our doveconf must fail exactly as the real one does.

The inputs are generated at test time into a scratch directory (nothing big is committed); their
builders live in record_goldens.BAD_INPUTS, and the real doveconf's answers are goldens under
goldens/bad-input/. We check the same stderr, exit code and (header-less) stdout, and that Python
never leaks a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
TRACEBACK = b"Traceback (most recent call last)"


def _load_module(name: str, filename: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


recorder = sys.modules.get("doveconf_golden_recorder") or _load_module(
    "doveconf_golden_recorder", "record_goldens.py"
)


def doveconf_under_test() -> list[str]:
    override = os.environ.get("DOVECONF_UNDER_TEST")
    return [override] if override else [sys.executable, "-m", "doveconf"]


def expected_for(name: str) -> recorder.RunResult:
    base = recorder.BAD_INPUT_GOLDENS / name
    return recorder.RunResult(
        stdout=base.with_suffix(".out").read_bytes(),
        stderr=base.with_suffix(".err").read_bytes(),
        returncode=int(base.with_suffix(".rc").read_text()),
    )


def as_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def assert_same(actual: recorder.RunResult, expected: recorder.RunResult, what: str) -> None:
    assert TRACEBACK not in actual.stderr, as_text(actual.stderr)
    assert as_text(actual.stderr) == as_text(expected.stderr), f"{what}: stderr differs"
    assert as_text(recorder.strip_header(actual.stdout)) == as_text(recorder.strip_header(expected.stdout)), (
        f"{what}: stdout differs"
    )
    assert actual.returncode == expected.returncode, f"{what}: exit code differs"


BAD_INPUT_NAMES = sorted(recorder.BAD_INPUTS)


def test_every_bad_input_has_a_golden() -> None:
    for name in BAD_INPUT_NAMES:
        assert (recorder.BAD_INPUT_GOLDENS / f"{name}.rc").is_file(), (
            f"no golden for {name}: run record_goldens.py"
        )


@pytest.mark.parametrize("name", BAD_INPUT_NAMES)
def test_our_doveconf_handles_bad_input_like_real(name: str, tmp_path: Path) -> None:
    config = recorder.BAD_INPUTS[name](tmp_path)
    actual = recorder.run_doveconf(doveconf_under_test(), tmp_path, recorder.BAD_INPUT_ARGS, config=config)
    assert_same(actual, expected_for(name), f"bad input {name}")


@pytest.mark.oracle
@pytest.mark.parametrize("name", BAD_INPUT_NAMES)
def test_bad_input_golden_has_not_drifted(name: str, tmp_path: Path, real_dovecot: Path) -> None:
    config = recorder.BAD_INPUTS[name](tmp_path)
    actual = recorder.run_doveconf(
        [str(real_dovecot / "doveconf")], tmp_path, recorder.BAD_INPUT_ARGS, config=config
    )
    assert_same(actual, expected_for(name), f"real doveconf on bad input {name} (re-record?)")


@pytest.mark.oracle
def test_permission_denied_like_real(tmp_path: Path, real_dovecot: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: mode 000 does not stop root from reading, so EACCES cannot be produced")
    config = tmp_path / "denied.conf"
    config.write_text("mail_location = maildir:~/Maildir\n")
    config.chmod(0)
    expected = recorder.run_doveconf([str(real_dovecot / "doveconf")], tmp_path, ("-n",), config=config.name)
    actual = recorder.run_doveconf(doveconf_under_test(), tmp_path, ("-n",), config=config.name)
    assert expected.returncode == 89 and b"Permission denied" in expected.stderr
    assert_same(actual, expected, "unreadable config")


# Fragments that make random text look enough like a configuration to reach deep parser paths.
CONFIG_FRAGMENTS = [
    "mail_location = maildir:~/Maildir",
    "mail_plugins = $mail_plugins quota",
    "protocol imap {",
    "protocol pop3 {",
    "local 10.0.0.0/8 {",
    "remote 192.168.0.1 {",
    "local_name mail.example.com {",
    "service imap-login {",
    "inet_listener imap {",
    "unix_listener auth-userdb {",
    "namespace inbox {",
    'mailbox "Sent Messages" {',
    "plugin {",
    "passdb {",
    "driver = pam",
    "}",
    "{",
    "mode = 0600",
    "port = 10143",
    "vsz_limit = 1G",
    "auth_cache_ttl = 1 hour",
    "auth_verbose = yes",
    "!include_try nothing-here.conf",
    "ssl_cert = <missing.pem",
    "# comment",
    "key = 'single' # x",
    'login_greeting = "double \\" quoted"',
    "\\",
    "=",
    "",
]

config_lines = st.one_of(
    st.sampled_from(CONFIG_FRAGMENTS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(config_lines, max_size=25))
def test_random_config_text_never_crashes(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory(prefix="doveconf-fuzz-") as scratch:
        directory = Path(scratch)
        (directory / "dovecot.conf").write_text(text, encoding="utf-8", errors="surrogateescape")
        result = recorder.run_doveconf(doveconf_under_test(), directory, ("-n",))
    assert TRACEBACK not in result.stderr, as_text(result.stderr)
    assert result.returncode in (0, 89), (result.returncode, as_text(result.stderr))
