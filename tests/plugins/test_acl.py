"""acl (vfile): rights resolution and enforcement, compared with real Dovecot 2.3.19.

One scenario runs through real ``imap`` (PREAUTH, with imap_acl for MYRIGHTS) and through our
MailUser API: mailboxes with ``dovecot-acl`` files (and, in the second scenario, a global ACL
file and acl_groups), then operations whose outcome is normalised to what the IMAP client
sees (``OK``, ``NO [NOPERM] Permission denied``...). ``goldens/acl.json`` holds real's
results; the live test re-records them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pydovecot.config import load
from pydovecot.plugins.acl import AclPlugin, ExpungeDenied, Requester, effective_rights, rights_string
from pydovecot.plugins.acl.rights import AclParseError, parse_rule
from pydovecot.plugins.acl.vfile import VfileSettings, parse_global_file
from pydovecot.storage.interface import MailboxError, StoreAction
from pydovecot.storage.mail_user import MailUser, create_mail_user
from tests.conftest import require_real_dovecot
from tests.plugins.real_imap import IMAP_BINARY, config, mail_uid, make_home, run_imap, tagged

GOLDEN = Path(__file__).parent / "goldens" / "acl.json"
MESSAGE = b"Subject: x\r\n\r\nhi\r\n"
RIGHTS = "lrwstipekxa"

SCENARIOS: dict[str, dict[str, Any]] = {
    "local": {
        "global": None,
        "groups": "",
        "boxes": {
            "a": "anyone lrw\nuser=u lr\n", "b": "owner lrs\n-owner s\nauthenticated i\n",
            "c": "user=other lrwstipekxa\n", "e1": "user=u lrw\n-anyone w\n", "e2": "authenticated lrw\nanyone i\n",
            "e3": "owner lr\n-anyone r\n", "e4": "anyone lrw\n", "nol": "owner r\n", "nor": "owner l\n",
            "noi": "owner lr\n", "ro": "owner lrs\n", "noe": "owner lrwsti\n", "nok": "owner lr\n",
            "nox": "owner lrk\n", "names": "owner :lookup :read :insert\n",
        },
        "ops": [
            ["select", "nol"], ["select", "nor"], ["select", "ro"], ["select", "noe"], ["status", "nor"],
            ["status", "nol"], ["append", "noi"], ["append", "nor"], ["append", "names"],
            ["store", "ro", "+", "\\Seen \\Flagged"], ["store", "ro", "=", "\\Deleted"],
            ["store", "noe", "+", "\\Deleted"], ["expunge", "noe"], ["expunge", "ro"],
            ["create", "nok/y"], ["create", "nox/y"], ["create", "top"], ["delete", "nox"], ["delete", "nol"],
            ["rename", "nox", "zz"], ["rename", "nol", "zz"], ["rename", "e4", "nok/zz"], ["rename", "c", "nox/zz"],
            ["list"],
        ],
    },
    "global": {
        "global": "g1 owner lr\ng2 owner lr\ng3* anyone lrw\ng4 user=u lrs\n",
        "groups": "staff,dev",
        "boxes": {
            "g1": "", "g2": "owner lrwi\n", "g3x": "", "g4": "owner lrwstipekxa\n",
            "h1": "group=staff lr\nanyone lrwi\n", "h2": "group=nope lr\nauthenticated lrwi\n",
            "h3": "group-override=dev l\nuser=u lr\n", "h4": "owner lr\ngroup=dev lrwi\n",
        },
        "ops": [["append", "g1"], ["append", "g3x"], ["select", "h3"], ["list"]],
    },
}


def conf_body(scenario: dict[str, Any], root: Path) -> str:
    plugin = "  acl = vfile\n"
    if scenario["global"] is not None:
        (root / "global-acl").write_text(scenario["global"])
        plugin = f"  acl = vfile:{root}/global-acl\n"
    if scenario["groups"]:
        plugin += f"  acl_groups = {scenario['groups']}\n"
    return ("mail_plugins = acl\nprotocol imap {\n  mail_plugins = acl imap_acl\n}\n"
            "namespace inbox {\n  separator = /\n  inbox = yes\n}\n"
            f"plugin {{\n{plugin}  acl_shared_dict = file:{root}/shared-mailboxes.db\n}}\n")


def write_acls(maildir: Path, boxes: dict[str, str]) -> None:
    for box, text in boxes.items():
        if text:
            path = maildir / f".{box}" / "dovecot-acl"
            path.write_text(text)
            if os.getuid() == 0:
                os.chown(path, mail_uid(), mail_uid())


def letters(rights: str) -> str:
    """RFC 4314's virtual c/d rights are the IMAP layer's: compare the real ones only."""
    return "".join(ch for ch in rights if ch in RIGHTS)


# --- real -------------------------------------------------------------------------------------

def _flags_text(text: str) -> str:
    return " ".join(sorted(f for f in text.split() if f != "\\Recent"))


def real_results(root: Path, scenario: dict[str, Any]) -> dict[str, str]:
    home = make_home(root, "real")
    conf = config(root, home, conf_body(scenario, root))
    boxes = scenario["boxes"]
    run_imap(conf, home, [b"create " + box.encode() for box in boxes]
             + [(b"append " + box.encode(), MESSAGE) for box in boxes] + [b"logout"])
    write_acls(home / "Maildir", boxes)
    commands: list[Any] = [b"myrights " + box.encode() for box in boxes]
    labels = [f"myrights {box}" for box in boxes]
    starts: dict[str, int] = {}
    for op in scenario["ops"]:
        starts[" ".join(op)] = len(commands)
        label = " ".join(op)
        kind = op[0]
        if kind in ("select", "status", "create", "delete"):
            command = {"select": b"select %s", "status": b"status %s (messages)", "create": b"create %s",
                       "delete": b"delete %s"}[kind] % op[1].encode()
            commands.append(command)
        elif kind == "append":
            commands.append((b"append " + op[1].encode(), MESSAGE))
        elif kind == "rename":
            commands.append(b"rename %s %s" % (op[1].encode(), op[2].encode()))
        elif kind == "store":
            commands.append(b"select " + op[1].encode())
            labels.append("")
            spec = {"+": b"+flags", "=": b"flags"}[op[2]]
            commands.append(b"store 1 %s (%s)" % (spec, op[3].encode()))
            labels.append("")
            commands.append(b"fetch 1 (flags)")
        elif kind == "expunge":
            commands.append(b"select " + op[1].encode())
            labels.append("")
            commands.append(b"expunge")
        elif kind == "list":
            commands.append(b'list "" *')
        labels.append(label)
    commands.append(b"logout")
    responses, _ = run_imap(conf, home, commands)
    finals = tagged(responses)
    out: dict[str, str] = {}
    for index, label in enumerate(labels):
        if not label:
            continue
        tag = f"t{index}"
        text = finals.get(tag, "")
        block = _block(responses, f"t{starts.get(label, index)}", tag)
        if label.startswith("myrights"):
            match = re.search(r"^\* MYRIGHTS \S+ (\S*)", block, re.M)
            out[label] = letters(match.group(1)) if match else text
        elif label.startswith("store"):
            match = re.findall(r"^\* 1 FETCH \(FLAGS \(([^)]*)\)\)", block, re.M)
            out[label] = _flags_text(match[-1]) if match else text
        elif label == "list":
            out[label] = " ".join(sorted(re.findall(r'^\* LIST \([^)]*\) "/" (\S+)', block, re.M)))
        else:
            out[label] = _normal(text)
    return out


def _block(responses: str, first: str, last: str) -> str:
    """The untagged lines from the tagged reply before ``first`` up to ``last``'s tagged reply
    (pipelined commands' untagged replies may come before the previous command's tagged one)."""
    lines: list[str] = []
    previous = f"t{int(first[1:]) - 1} "
    started = first == "t0"
    for line in responses.splitlines():
        if line.startswith(last + " "):
            break
        if line.startswith(previous):
            started = True
        elif started and not re.match(r"^t\d+ ", line):
            lines.append(line)
    return "\n".join(lines)


def _normal(text: str) -> str:
    """Only what both sides can say: OK [READ-ONLY]/[READ-WRITE] or the NO line."""
    if text.startswith("OK"):
        if "Expunge ignored" in text:
            return "OK Expunge ignored: Permission denied"
        for code in ("READ-ONLY", "READ-WRITE"):
            if f"[{code}]" in text:
                return f"OK [{code}]"
        return "OK"
    return text


# --- ours ------------------------------------------------------------------------------------

def _acl(user: MailUser) -> AclPlugin:
    return next(p for p in user.plugins if isinstance(p, AclPlugin))


def our_results(root: Path, scenario: dict[str, Any]) -> dict[str, str]:
    home = root / "ours"
    home.mkdir()
    conf = config(root, home, conf_body(scenario, root))
    node = load(str(conf)).lookup(service="imap")
    user = create_mail_user(node, "u", {"home": str(home)}, service="imap")
    boxes = scenario["boxes"]
    for box in boxes:
        user.create_mailbox(box)
        try:
            user.open_mailbox(box).append(MESSAGE)
        except MailboxError:
            pass  # a global ACL already applies (real's APPEND fails the same way)
    write_acls(home / "Maildir", boxes)
    user = create_mail_user(node, "u", {"home": str(home)}, service="imap")
    acl = _acl(user)
    out = {f"myrights {box}": rights_string(acl.my_rights(box)) for box in boxes}
    for op in scenario["ops"]:
        label = " ".join(op)
        try:
            out[label] = _our_op(user, op)
        except ExpungeDenied:
            out[label] = "OK Expunge ignored: Permission denied"
        except MailboxError as error:
            out[label] = f"NO [{error.code}] {error}"
    return out


def _our_op(user: MailUser, op: list[str]) -> str:
    kind = op[0]
    if kind == "select":
        mailbox = user.open_mailbox(op[1])
        mailbox.sync(take_recent=True)
        return "OK [READ-ONLY]" if mailbox.is_readonly() else "OK [READ-WRITE]"  # type: ignore[attr-defined]
    if kind == "status":
        user.open_mailbox(op[1]).status()
        return "OK"
    if kind == "append":
        user.open_mailbox(op[1]).append(MESSAGE)
        return "OK"
    if kind == "store":
        mailbox = user.open_mailbox(op[1])
        mailbox.sync(take_recent=True)
        action = StoreAction.ADD if op[2] == "+" else StoreAction.REPLACE
        mailbox.store([1], action, op[3].split())
        info = next(m for m in mailbox.sync().messages if m.uid == 1)
        return _flags_text(" ".join(info.flags))
    if kind == "expunge":
        mailbox = user.open_mailbox(op[1])
        snapshot = mailbox.sync(take_recent=True)
        mailbox.expunge([m.uid for m in snapshot.messages if "\\Deleted" in m.flags])
        return "OK"
    if kind == "create":
        user.create_mailbox(op[1])
        return "OK"
    if kind == "delete":
        user.delete_mailbox(op[1])
        return "OK"
    if kind == "rename":
        user.rename_mailbox(op[1], op[2])
        return "OK"
    assert kind == "list"
    return " ".join(sorted(m.vname for m in user.namespaces.list("*") if user.mailbox_visible(m.vname)))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_matches_real_golden(tmp_path: Path, name: str) -> None:
    assert our_results(tmp_path, SCENARIOS[name]) == json.loads(GOLDEN.read_text())[name]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_live_against_real_imap(open_tmp_path: Path, name: str) -> None:
    require_real_dovecot()
    if not IMAP_BINARY.exists():
        pytest.skip("no real imap binary")
    real = real_results(open_tmp_path, SCENARIOS[name])
    assert real == json.loads(GOLDEN.read_text())[name]
    assert our_results(open_tmp_path, SCENARIOS[name]) == real


# --- units -----------------------------------------------------------------------------------

def test_most_specific_identifier_class_decides() -> None:
    me = Requester("u", frozenset({"staff"}))
    rules = [parse_rule("anyone", "lrw"), parse_rule("user=u", "lr")]
    assert rights_string(effective_rights(rules, me)) == "lr"
    rules = [parse_rule("owner", "lrs"), parse_rule("-owner", "s"), parse_rule("authenticated", "i")]
    assert rights_string(effective_rights(rules, me)) == "lr"
    rules = [parse_rule("group=staff", "lrw"), parse_rule("anyone", "i")]
    assert rights_string(effective_rights(rules, Requester("u", frozenset({"staff"}), owner=False))) == "lrw"
    assert effective_rights([parse_rule("user=other", "lr")], Requester("u", owner=False)) == frozenset()


def test_parse_errors_and_settings() -> None:
    with pytest.raises(AclParseError, match="Unknown ID 'bogus'"):
        parse_rule("bogus", "l")
    with pytest.raises(AclParseError, match="Unknown ACL right: z"):
        parse_rule("owner", "lz")
    assert VfileSettings.parse("vfile").global_path is None
    assert VfileSettings.parse("vfile:/etc/acls:cache_secs=30").global_path == "/etc/acls"
    with pytest.raises(AclParseError):
        VfileSettings.parse("ldap:/x")
    rules = parse_global_file('"Sent Items" owner lr\n# c\nINBOX* anyone l\n', "Sent Items")
    assert [str(r) for r in rules] == ["owner lr"]


def test_imap_acl_seam(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    conf = config(tmp_path, home, conf_body(SCENARIOS["local"] | {"global": None, "groups": ""}, tmp_path))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    user.create_mailbox("box")
    acl = _acl(user)
    assert acl.shared_dict == f"file:{tmp_path}/shared-mailboxes.db"
    assert rights_string(acl.my_rights("box")) == RIGHTS
    acl.set_rights("box", "owner", "lr")
    acl.set_rights("box", "owner", "i", mode="add")
    acl.set_rights("box", "user=bob", "lrw")
    assert (home / "Maildir" / ".box" / "dovecot-acl").read_text() == "owner ilr\nuser=bob lrw\n"  # by right name, as Dovecot
    assert rights_string(acl.my_rights("box")) == "lri"
    acl.delete_rights("box", "owner")
    assert rights_string(acl.my_rights("box")) == RIGHTS  # the owner's default comes back
    with pytest.raises(MailboxError, match="Permission denied"):
        acl.set_rights("box", "owner", "l")
        user.open_mailbox("box").sync()


def record() -> None:  # pragma: no cover - run by hand: python -m tests.plugins.test_acl
    import shutil
    import tempfile

    out = {}
    for name, scenario in SCENARIOS.items():
        root = Path(tempfile.mkdtemp(prefix="pydovecot-acl-"))
        root.chmod(0o755)
        try:
            out[name] = real_results(root, scenario)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    GOLDEN.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record()
