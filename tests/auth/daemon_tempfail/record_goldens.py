"""Record real Dovecot 2.3.19's IMAP/POP3/LMTP answers while its MySQL goes away and comes back
(run by hand, as root, with MariaDB on 127.0.0.1:3306; takes a few minutes):

    /work/main/.venv/bin/python tests/auth/daemon_tempfail/record_goldens.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from daemon_tempfail_support import (  # noqa: E402
    CuttableProxy,
    create_database,
    database_name,
    drop_database,
    outage,
    write_config,
)

from tests.support import real_dovecot  # noqa: E402


async def run(tmp: Path, database: str) -> dict[str, object]:
    proxy = CuttableProxy()
    await proxy.start()
    conf, ports = write_config(tmp, database, proxy.port)
    try:
        with real_dovecot.running(conf, ready=(tmp / "run" / "master.pid").exists):
            await asyncio.sleep(0.5)
            return await outage(ports, proxy)
    finally:
        if proxy.server is not None:
            proxy.server.close()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pdt-real-dtf", dir="/tmp"))
    database = database_name("dtf_real")
    create_database(database)
    try:
        answers = asyncio.run(run(tmp, database))
        print((tmp / "dovecot.log").read_text())
    finally:
        drop_database(database)
        time.sleep(1)
        shutil.rmtree(tmp, ignore_errors=True)
    (Path(__file__).parent / "goldens" / "outage.json").write_text(json.dumps(answers, indent=1) + "\n")
    print(json.dumps(answers, indent=1))


if __name__ == "__main__":
    main()
