"""Pieces of dovecot.conf that the generated test and benchmark configurations share, written
exactly as Dovecot's example configuration spells them."""

from __future__ import annotations

from pathlib import Path

# Which login (or delivery) service each standard inet_listener belongs to.
_SERVICE = {"imap": "imap-login", "imaps": "imap-login", "pop3": "pop3-login", "pop3s": "pop3-login",
            "lmtp": "lmtp"}


def inet_listeners(**ports: int) -> str:
    """``service imap-login { inet_listener imap { port = N } ... }`` blocks, one per service, the
    listeners in the order given; port 0 turns a listener off."""
    services: dict[str, list[str]] = {}
    for name, port in ports.items():
        services.setdefault(_SERVICE[name], []).append(f"  inet_listener {name} {{\n    port = {port}\n  }}\n")
    return "".join(f"service {service} {{\n{''.join(blocks)}}}\n" for service, blocks in services.items())


def passwd_file_dbs(users: Path | str, *, passdb_args: str = "") -> str:
    """A passwd-file passdb and userdb on one users file; ``passdb_args`` go before the path."""
    return (f"passdb {{\n  driver = passwd-file\n  args = {passdb_args}{users}\n}}\n"
            f"userdb {{\n  driver = passwd-file\n  args = {users}\n}}\n")


def auth_sockets(*listeners: str, mode: str = "0666") -> str:
    """``service auth`` with the named unix_listeners (auth-client, auth-master, ...) open to
    every user, so that test clients not running as the auth user can connect."""
    blocks = "".join(f"  unix_listener {name} {{\n    mode = {mode}\n  }}\n" for name in listeners)
    return f"service auth {{\n{blocks}}}\n"


def sql_dbs(args: Path | str) -> str:
    """An sql passdb and userdb on one dovecot-sql.conf.ext."""
    return (f"passdb {{\n  driver = sql\n  args = {args}\n}}\n"
            f"userdb {{\n  driver = sql\n  args = {args}\n}}\n")


def passwd_file_tree(root: Path | str, *, mail_plugins: str, plugin: str, log_name: str = "log") -> str:
    """dovecot.conf for doveadm and dovecot-lda runs (no listeners: ``protocols =``): run, state
    and log under ``root``, users in ``root``/passwd (passdb and userdb), a Maildir in each home;
    ``plugin`` is the body of ``plugin { }``, one indented setting per line."""
    return (f"protocols =\nbase_dir = {root}/run\nstate_dir = {root}/state\nssl = no\n"
            f"log_path = {root}/{log_name}\nfirst_valid_uid = 0\nmail_location = maildir:~/Maildir\n"
            f"mail_plugins = {mail_plugins}\n" + passwd_file_dbs(f"{root}/passwd") + f"plugin {{\n{plugin}}}\n")
