"""Record real Dovecot 2.3.19's answers for SNI certificates and the PROXY protocol.

A private pop3-login (own base_dir, high loopback ports) with two local_name certificates and
two haproxy listeners; for each case we record what the client saw (certificate name, the
greeting or a close) and the log lines it caused, into goldens/sni_haproxy_real_dovecot.json.
Run by hand as root; tests/master/test_sni_haproxy.py compares our master with the file.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.master.harness import make_cert  # noqa: E402
from tests.master.test_sni_haproxy import (  # noqa: E402
    HEADER_CASES,
    NAMES,
    log_messages,
    make_named_cert,
    observe_header,
    observe_sni,
)
from tests.support import real_dovecot  # noqa: E402
from tests.support.net import free_port, port_open  # noqa: E402

OUT = Path(__file__).resolve().parent / "goldens" / "sni_haproxy_real_dovecot.json"


def config(tmp: Path, tls_port: int, proxied: int, trusted: str = "127.0.0.0/8") -> str:
    cert, key = make_cert(tmp)
    blocks = ""
    for name in NAMES[:2]:
        c, k = make_named_cert(tmp, name)
        blocks += f"local_name {name} {{\n  ssl_cert = <{c}\n  ssl_key = <{k}\n}}\n"
    return f"""\
protocols = pop3
base_dir = {tmp}/run
listen = 127.0.0.1
log_path = {tmp}/log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
passdb {{
  driver = static
  args = password=x
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
haproxy_trusted_networks = {trusted}
haproxy_timeout = 1 sec
{blocks}
service pop3-login {{
  inet_listener pop3 {{
    port = {proxied}
    haproxy = yes
  }}
  inet_listener pop3s {{
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        tls_port, proxied = free_port(), free_port()
        conf = tmp / "dovecot.conf"
        conf.write_text(config(tmp, tls_port, proxied))
        result: dict[str, object] = {}
        with real_dovecot.running(conf, ready=lambda: port_open(tls_port) and port_open(proxied)):
            result["sni"] = {n: observe_sni(tls_port, n) for n in (*NAMES[:2], "localhost", "unknown.test")}
            result["headers"] = {}
            for key in HEADER_CASES:
                before = (tmp / "log").read_text()
                seen = observe_header(proxied, key)
                time.sleep(0.3)
                new = (tmp / "log").read_text()[len(before):]
                result["headers"][key] = {"seen": seen, "log": log_messages(new),  # type: ignore[index]
                                          "login_log": [line[16:] for line in new.splitlines()
                                                        if "Disconnected" in line]}
        # the same header from a proxy outside haproxy_trusted_networks
        conf.write_text(config(tmp, tls_port, proxied, trusted="10.0.0.0/8"))
        with real_dovecot.running(conf, ready=lambda: port_open(proxied)):
            time.sleep(0.3)  # port_open's own connection is logged too
            before = (tmp / "log").read_text()
            seen = observe_header(proxied, "v1")
            time.sleep(0.3)
        new = (tmp / "log").read_text()[len(before):]
        result["untrusted"] = {"seen": seen, "log": log_messages(new)}
        OUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(10)
    sys.exit(main())
