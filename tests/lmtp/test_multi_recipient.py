"""One DATA for several local recipients, against real Dovecot 2.3.19's behaviour recorded in
goldens/multi_recipient.json: the first recipient's file is hard-linked for the others (one
inode) where real Dovecot links it, copied byte for byte under the same base name where it does
not (maildir_copy_with_hardlinks = no, another owner), with the same replies."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.lmtp.harness import converse, normalize_reply
from tests.lmtp.multi_recipient import STEPS, VARIANTS, can_run_other_uid, observe, write_variant
from tests.lmtp.ours import OurServer

GOLDENS = json.loads((Path(__file__).parent / "goldens" / "multi_recipient.json").read_text())


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_multi_recipient_matches_real_dovecot(name: str, open_tmp_path: Path) -> None:
    if VARIANTS[name][1] is not None and not can_run_other_uid():
        pytest.skip("another owner's copy needs root")
    golden = GOLDENS[name]
    conf = write_variant(open_tmp_path, 0, name)
    with OurServer(conf) as server:
        replies = converse(server.port, STEPS, golden["expected"])
    assert [normalize_reply(r).decode("latin-1") for r in replies] == golden["replies"]
    seen = observe(open_tmp_path)
    if os.geteuid() != 0:  # every user is the test's own uid then
        seen.pop("owners")
        golden = {k: v for k, v in golden.items() if k != "owners"}
    for key in ("folders", "mail", "shared_inodes", "nlink", "one_base_name", "owners"):
        if key in golden:
            assert seen[key] == golden[key], key


def test_each_copy_is_durable_and_numbered(open_tmp_path: Path) -> None:
    """The linked copies are published like a save: a UID in each user's dovecot-uidlist, under
    the shared base name."""
    conf = write_variant(open_tmp_path, 0, "default")
    with OurServer(conf) as server:
        converse(server.port, STEPS, GOLDENS["default"]["expected"])
    names = set()
    for user in ("alice", "bob", "carol"):
        maildir = open_tmp_path / "mail" / f"{user}@example.test" / "Maildir"
        (name,) = os.listdir(maildir / "new")
        names.add(name)
        records = (maildir / "dovecot-uidlist").read_text().splitlines()[1:]
        assert records == [f"1 :{name}"]
    assert len(names) == 1
