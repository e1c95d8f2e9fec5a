"""Record real Dovecot 2.3.19's answers while its MySQL goes away and comes back (run by hand,
as root, with MariaDB on 127.0.0.1:3306):

    /work/main/.venv/bin/python tests/auth/tempfail/tempfail_record_goldens.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tempfail_support import (  # noqa: E402, I001 - puts e2e_support on the path

    CuttableProxy,
    create_database,
    database_name,
    drop_database,
    outage_exchange,
    write_config,
)
from e2e_support import Setup, real_dovecot_running  # noqa: E402


async def run(directory: Path, database: str) -> tuple[dict[str, object], str]:
    proxy = CuttableProxy()
    await proxy.start()
    conf, base = write_config(directory, database, proxy.port)
    setup = Setup(directory, conf, base)
    try:
        with real_dovecot_running(setup):
            answers = await outage_exchange(base, proxy)
        return answers, (base / "dovecot.log").read_text()
    finally:
        if proxy.server is not None:
            proxy.server.close()


def main() -> None:
    import tempfail_support

    tempfail_support.ANSWER_TIMEOUT = 150.0
    directory = Path(tempfile.mkdtemp(prefix="pdt-real", dir="/tmp"))
    database = database_name("tempfail_real")
    create_database(database)
    try:
        answers, log = asyncio.run(run(directory, database))
    finally:
        drop_database(database)
        shutil.rmtree(directory, ignore_errors=True)
    goldens = Path(__file__).parent / "goldens"
    (goldens / "outage.json").write_text(json.dumps(answers, indent=1) + "\n")
    print(log)


if __name__ == "__main__":
    main()
