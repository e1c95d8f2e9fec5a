"""test_master's behaviour again, with every service in worker processes
(PYDOVECOT_PROCESS_MODEL=workers: one worker per CPU, at least two here).

Listeners, TLS, fifo, stop, reload (new and removed listeners, the log moving) must not depend on
the process model.  Not repeated: the client_limit warning (a master-only check; workers queue
instead) and a service failing to start (workers are throttled and clients wait, as in Dovecot).
"""

from __future__ import annotations

import pytest

from tests.master import test_master as base
from tests.master.harness import Env, running_master
from tests.master.test_master import env  # noqa: F401 - the fixture the tests below use
from tests.master.test_workers import until, workers_of

test_inet_listener_serves_the_registered_service = base.test_inet_listener_serves_the_registered_service
test_unix_listener_with_its_mode = base.test_unix_listener_with_its_mode
test_implicit_tls_listener = base.test_implicit_tls_listener
test_starttls_on_a_plain_listener = base.test_starttls_on_a_plain_listener
test_pid_file_second_instance_and_stop = base.test_pid_file_second_instance_and_stop
test_reload_keeps_unchanged_listeners_and_applies_settings = (
    base.test_reload_keeps_unchanged_listeners_and_applies_settings)
test_reload_closes_removed_listeners = base.test_reload_closes_removed_listeners
test_reload_reopens_the_log_at_its_new_path = base.test_reload_reopens_the_log_at_its_new_path
test_fifo_listener = base.test_fifo_listener
test_daemon_mode_and_stop = base.test_daemon_mode_and_stop
test_auth_service_serves_auth_client_and_master = base.test_auth_service_serves_auth_client_and_master


@pytest.fixture(autouse=True)
def worker_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYDOVECOT_PROCESS_MODEL", "workers")


def test_the_echo_service_really_runs_in_workers(env: Env) -> None:  # noqa: F811 - the fixture
    with running_master(env) as proc:
        until(lambda: len(workers_of(proc.pid)) >= 2, "no workers")
