"""The master process: listeners, the service registry, TLS, signals and the dovecot CLI.

Services plug in with ``register_service(name, factory)`` (see ``registry``); ``Master`` in
``server`` binds the configured listeners and serves them from its asyncio loop or from worker
processes sharing the sockets (``workers``; docs/process-model.md).
"""

from __future__ import annotations

from .registry import ConnInfo, ServiceFactory, ServiceHandler, SharedContext, register_service
from .tls import start_tls, tls_context

__all__ = [
    "ConnInfo",
    "ServiceFactory",
    "ServiceHandler",
    "SharedContext",
    "register_service",
    "start_tls",
    "tls_context",
]
