"""contrib/systemd/pydovecot.service: systemd accepts it, and it keeps the shape of Debian's unit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib" / "systemd" / "pydovecot.service"


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """[Section] -> (key, value) pairs in order; comments and blank lines skipped.  Fails on
    anything systemd would not read as a section header or an assignment."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], [])
            continue
        key, equals, value = stripped.partition("=")
        assert equals and current is not None and key.strip().isidentifier(), f"line {number}: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in sections[section] if k == key]


def test_unit_structure() -> None:
    sections = parse_unit(UNIT.read_text())
    assert set(sections) == {"Unit", "Service", "Install"}
    assert values(sections, "Service", "Type") == ["simple"]
    (start,) = values(sections, "Service", "ExecStart")
    assert start.split()[0].endswith("/dovecot") and start.split()[1:] == ["-F"]
    assert values(sections, "Service", "ExecReload")[0].endswith("doveadm reload")
    assert values(sections, "Service", "ExecStop")[0].endswith("doveadm stop")
    for key, value in (("PrivateTmp", "true"), ("ProtectSystem", "full"), ("ProtectHome", "no"),
                       ("PrivateDevices", "true"), ("NonBlocking", "yes"), ("LimitNOFILE", "65535")):
        assert values(sections, "Service", key) == [value], key
    assert values(sections, "Install", "WantedBy") == ["multi-user.target"]
    assert "log_path = /dev/stderr" in UNIT.read_text()  # the journald recipe is documented


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the structural test still runs)")
    # verify checks that the commands exist: point them at this checkout's scripts
    text = UNIT.read_text().replace("/usr/local/bin/", f"{ROOT}/bin/")
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if UNIT.name in line or "Unknown" in line]
    assert result.returncode == 0 and not problems, result.stderr
