"""The variable table and environment the oracle's auth process had for one golden case.

Observed from 2.3.19 for ``doveadm user -x service=.. -x lip=.. -x rip=.. -x lport=.. -x rport=..``
(no login, no mechanism): the client pid is 0, %! (passdb id) is 1, the real_* addresses equal
the plain ones, and auth_user/original_user equal the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydovecot.varexpand import AUTH, Expansion, ProcessInfo, expand, field_function


def auth_table(user: str, service: str, auth_info: Mapping[str, str]) -> dict[str, str | None]:
    return AUTH.table(
        {
            "user": user,
            "service": service,
            "pid": "0",
            "%!": "1",
            **auth_info,
            "real_local_ip": auth_info["local_ip"],
            "real_remote_ip": auth_info["remote_ip"],
            "real_local_port": auth_info["local_port"],
            "real_remote_port": auth_info["remote_port"],
            "auth_user": user,
            "original_user": user,
        }
    )


def expand_like_oracle(golden: Mapping[str, Any], case: Mapping[str, Any]) -> Expansion:
    process = golden["process"]
    return expand(
        case["template"],
        auth_table(case["user"], case["service"], golden["auth_info"]),
        context=AUTH,
        # No userdb/passdb extra fields exist while auth_username_format is expanded.
        functions={"userdb": field_function({}), "passdb": field_function({})},
        environ=golden["environ"],
        process=ProcessInfo(pid="-1", uid=process["uid"], gid=process["gid"], hostname=process["hostname"]),
    )
