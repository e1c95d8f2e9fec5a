"""Settings from older Dovecot releases, translated as Dovecot 2.3 translates them.

Dovecot 2.3 still reads many 1.x/2.0-era names (``login_user``, ``ssl_key_file``,
``auth default { ... }``, ``protocols = imaps``...): it warns "Obsolete setting in FILE:LINE:
..." and applies the modern equivalent.  Admins upgrading old trees depend on that, so the
builder offers every statement here first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydovecot.config import parser as p

if TYPE_CHECKING:
    from pydovecot.config.build import Builder

NOTE = "NOTE: You can get a new clean config file with: doveconf -Pn > dovecot-new.conf"
REMOVED = frozenset((
    "login_dir", "dbox_rotate_min_size", "dbox_rotate_days", "director_consistent_hashing",
    "mail_log_max_lines_per_sec", "maildir_copy_preserve_filename",
))
# Old login_* settings -> the setting in service imap-login/pop3-login, with a value mapper.
LOGIN_SETTINGS = {
    "login_chroot": ("chroot", lambda v: "" if v == "no" else "login"),
    "login_user": ("user", str),
    "login_executable": ("executable", str),
    "login_process_size": ("vsz_limit", lambda v: f"{v} M"),
    "login_process_per_connection": ("service_count", lambda v: "0" if v == "no" else "1"),
    "login_processes_count": ("process_min_avail", str),
    "login_max_processes_count": ("process_limit", str),
    "login_max_connections": ("client_limit", str),
}
MAIL_SETTINGS = {
    "max_mail_processes": ("process_limit", str),
    "mail_executable": ("executable", str),
    "mail_process_size": ("vsz_limit", lambda v: f"{v} M"),
    "mail_drop_priv_before_exec": ("drop_priv_before_exec", str),
}
AUTH_SERVICE_SETTINGS = {
    "auth_executable": ("executable", str),
    "auth_process_size": ("vsz_limit", lambda v: f"{v} M"),
    "auth_user": ("user", str),
    "auth_chroot": ("chroot", str),
}
SSL_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")


def min_protocol(ssl_protocols: str) -> str:
    """The ssl_min_protocol an old ssl_protocols list means; ValueError with the reason."""
    state = [0] * len(SSL_VERSIONS)  # -1 disabled, 0 not named, 1 enabled
    explicit = False
    for word in ssl_protocols.replace(",", " ").split():
        enable = not word.startswith("!")
        name = word[1:] if not enable else word
        if name not in SSL_VERSIONS:
            raise ValueError(f"Unrecognized protocol '{name}'")
        state[SSL_VERSIONS.index(name)] = 1 if enable else -1
        explicit = explicit or enable
    for index, value in enumerate(state):
        if (explicit and value > 0) or (not explicit and value == 0):
            return SSL_VERSIONS[index]
    raise ValueError("All protocols disabled")


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def listen_has_port(value: str) -> bool:
    if ":" not in value:
        return False
    return any(addr not in ("*", "::", "[::]") and not _is_ip(addr)
               for addr in value.replace(",", " ").split())


@dataclass
class SocketSet:
    path: str | None = None
    mode: str | None = None
    user: str | None = None
    group: str | None = None
    master: bool = False


@dataclass
class ObsoleteSettings:
    builder: Builder
    base_dir: str = "/run/dovecot"
    auth_section: int = 0
    socket_listen_section: int = 0
    seen_auth_section: bool = False
    socket: SocketSet = field(default_factory=SocketSet)
    noted: bool = False
    current: p.Statement | None = None

    # -- reporting ---------------------------------------------------------------

    def obsolete(self, message: str) -> None:
        if not self.noted:
            self.builder.warn(NOTE)
            self.noted = True
        st = self.current
        assert st is not None
        self.builder.warn(f"Obsolete setting in {st.path}:{st.line}: {message}")

    # -- entry point --------------------------------------------------------------

    def handle(self, st: p.Statement) -> bool:
        """True when the statement was consumed (translated or dropped)."""
        self.current = st
        frame = self.builder.stack[-1]
        at_top = not frame.prefix and frame.strlist is None
        if st.kind == p.ASSIGN:
            if not at_top:
                return False
            return self._proto(st.key, st.value) or self._root(st.key, st.value)
        if st.kind == p.SECTION_OPEN:
            if self.auth_section > 0:
                return self._auth_section(st.key, st.value)
            if at_top and st.key == "auth":
                self.obsolete("add auth_ prefix to all settings inside auth {} and remove the auth {} section completely")
                self.auth_section = 1
                return True
            if at_top and st.key == "protocol" and st.value == "managesieve":
                self.obsolete("protocol managesieve {} has been replaced by protocol sieve { }")
                self._section("protocol", "sieve")
                return True
            if at_top and st.key == "service" and st.value == "dns_client":
                self.obsolete("service dns_client {} has been replaced by service dns-client { }")
                self._section("service", "dns-client")
                return True
            return False
        if st.kind == p.SECTION_CLOSE:
            if self.auth_section > 0:
                self.auth_section -= 1
                if self.auth_section == 0:
                    return True
            if self.socket_listen_section > 0:
                if self.socket_listen_section == 2:
                    self._socket_apply()
                self.socket_listen_section -= 1
                return True
        return False

    # -- helpers that feed the builder ---------------------------------------------

    def _assign(self, key: str, value: str) -> None:
        st = self.current
        assert st is not None
        self.builder.apply_statement(p.Statement(p.ASSIGN, key, value, st.path, st.line))

    def _section(self, key: str, name: str) -> None:
        st = self.current
        assert st is not None
        self.builder.apply_statement(p.Statement(p.SECTION_OPEN, key, name, st.path, st.line))

    def _path(self, path: str, value: str, *, ignore_errors: bool = False) -> None:
        self.builder.apply_path(path, value, ignore_errors=ignore_errors)

    def _current_filter_matches(self, service: str | None) -> bool:
        flt = self.builder.stack[-1].scope.filter
        if flt.local is not None or flt.remote is not None or flt.local_name is not None:
            return False
        if flt.service is None:
            return True
        return service is not None and flt.service == service

    def _per_protocol(self, template: str, value: str) -> None:
        if self._current_filter_matches("imap"):
            self._path(template.format(proto="imap"), value)
        if self._current_filter_matches("pop3"):
            self._path(template.format(proto="pop3"), value)
        if self._current_filter_matches("sieve"):
            self._path(template.format(proto="managesieve"), value, ignore_errors=True)

    # -- keys valid anywhere at the top level (inside protocol {} too) ---------------

    def _proto(self, key: str, value: str) -> bool:
        root = self._current_filter_matches(None) and self.builder.stack[-1].scope.filter.service is None
        if key == "ssl_listen" or (key == "listen" and (listen_has_port(value) or not root)):
            return self._listen(key, value, root)
        if key in LOGIN_SETTINGS:
            new_key, convert = LOGIN_SETTINGS[key]
            self.obsolete(f"{key} has been replaced by service {{ {new_key} }}")
            self._per_protocol("service/{proto}-login/" + new_key, convert(value))
            return True
        if key in MAIL_SETTINGS:
            new_key, convert = MAIL_SETTINGS[key]
            self.obsolete(f"{key} has been replaced by service {{ {new_key} }}")
            self._per_protocol("service/{proto}/" + new_key, convert(value))
            return True
        if self.auth_section == 1 and not key.startswith("auth_"):
            key = "auth_" + key
        if key in AUTH_SERVICE_SETTINGS:
            new_key, convert = AUTH_SERVICE_SETTINGS[key]
            self.obsolete(f"{key} has been replaced by service auth {{ {new_key} }}")
            self._path("service/auth/" + new_key, convert(value))
            return True
        if key == "auth_cache_size" and value.isdigit() and 0 < int(value) < 1024:
            self.obsolete(f"auth_cache_size value no longer defaults to megabytes. Use {value}M")
            self._assign(key, f"{value}M")
            return True
        if key == "auth_count":
            if value == "count":
                self.obsolete("auth_count has been removed")
            else:
                self.obsolete("auth_count has been removed, and its value must be 1")
            return True
        if self.socket_listen_section == 2 and key in ("path", "mode", "user", "group"):
            setattr(self.socket, key, value)
            return True
        return False

    def _listen(self, key: str, value: str, root: bool) -> bool:
        ssl = "s" if key == "ssl_listen" else ""
        if not value:
            return True
        if ":" in value and listen_has_port(value):
            self.obsolete(f"{key}=..:port has been replaced by service {{ inet_listener {{ port }} }}")
            value, _, port = value.rpartition(":")
            if self._current_filter_matches("imap"):
                self._path(f"service/imap-login/inet_listener/imap{ssl}/port", port)
            if self._current_filter_matches("pop3"):
                self._path(f"service/pop3-login/inet_listener/pop3{ssl}/port", port)
            if not ssl and self._current_filter_matches("sieve"):
                self._path("service/managesieve-login/inet_listener/managesieve/port", port, ignore_errors=True)
        if root and not ssl:
            self._assign(key, value)
            return True
        self.obsolete(f"protocol {{ {key} }} has been replaced by service {{ inet_listener {{ address }} }}")
        if self._current_filter_matches("imap"):
            self._path(f"service/imap-login/inet_listener/imap{ssl}/address", value)
        if self._current_filter_matches("pop3"):
            self._path(f"service/pop3-login/inet_listener/pop3{ssl}/address", value)
        if not ssl and self._current_filter_matches("sieve"):
            self._path("service/managesieve-login/inet_listener/managesieve/address", value, ignore_errors=True)
        return True

    # -- keys valid only at the root --------------------------------------------------

    def _root(self, key: str, value: str) -> bool:
        if key == "base_dir":
            self.base_dir = value[:-1] if value.endswith("/") else value
        if key == "protocols":
            self._protocols(value)
            return True
        if key in ("ssl_cert_file", "ssl_key_file", "ssl_ca_file"):
            if value:
                new_key = key.rsplit("_", 1)[0]
                self.obsolete(f"{key} has been replaced by {new_key} = <file")
                st = self.current
                assert st is not None
                self.builder.apply_statement(p.Statement(p.ASSIGN_FILE, new_key, value, st.path, st.line))
            return True
        if key == "ssl_disable":
            flipped = {"yes": "no", "no": "yes"}.get(value.lower(), value)
            return self._rename(key, "ssl", flipped)
        if key in ("ssl_parameters_regenerate", "ssl_dh_parameters_length"):
            self.obsolete(f"{key} is no longer needed")
            return True
        if key == "ssl_protocols":
            self.obsolete(f"{key} has been replaced by ssl_min_protocol")
            try:
                self._assign("ssl_min_protocol", min_protocol(value))
            except ValueError as e:
                self.builder.error(
                    f"Could not find a minimum ssl_min_protocol setting from ssl_protocols = {value}: {e}")
            return True
        if key in ("sieve", "sieve_storage"):
            if key == "sieve_storage":
                self.obsolete("sieve_storage has been moved into plugin { sieve_dir }")
            else:
                self.obsolete(f"{key} has been moved into plugin {{}} section")
            self.builder.apply_path(f"plugin/{key}", value)
            return True
        if key == "fsync_disable":
            mapped = {"yes": "never", "no": "optimized"}.get(value.lower(), value)
            return self._rename(key, "mail_fsync", mapped)
        if key == "dbox_rotate_size":
            return self._rename(key, "mdbox_rotate_size", value)
        if key.startswith("mail_cache_compress_"):
            return self._rename(key, "mail_cache_purge_" + key[len("mail_cache_compress_"):], value)
        if key == "imap_client_workarounds":
            words = value.replace(",", " ").split()
            kept = []
            for word in words:
                if word == "outlook-idle":
                    self.obsolete("imap_client_workarounds=outlook-idle is no longer necessary")
                    kept.append("")
                elif word == "netscape-eoh":
                    self.obsolete("imap_client_workarounds=netscape-eoh is no longer supported")
                    kept.append("")
                else:
                    kept.append(word)
            self._assign(key, " ".join(kept))
            return True
        if key in REMOVED:
            self.obsolete(f"{key} has been removed")
            return True
        if self.auth_section == 1:
            self._assign(key if key.startswith("auth_") else "auth_" + key, value)
            return True
        return False

    def _rename(self, old: str, new: str, value: str) -> bool:
        self.obsolete(f"{old} has been renamed to {new}")
        self._assign(new, value)
        return True

    def _protocols(self, value: str) -> None:
        words = value.split()
        have = set(words)
        out = []
        for word in words:
            if word in ("imaps", "pop3s"):
                continue
            if word == "managesieve":
                self.obsolete("protocols=managesieve has been renamed to protocols=sieve")
                word = "sieve"
            out.append(word)
        joined = " ".join(out)
        for proto in ("imap", "pop3"):
            if proto + "s" not in have:
                continue
            if proto not in have:
                self.obsolete(
                    f"'{proto}s' protocol can no longer be specified (use protocols={proto}). to disable "
                    f"non-ssl {proto}, use service {proto}-login {{ inet_listener {proto} {{ port=0 }} }}")
                joined += " " + proto
                self._path(f"service/{proto}-login/inet_listener/{proto}/port", "0")
            else:
                self.obsolete(f"'{proto}s' protocol is no longer necessary, remove it")
        self._assign("protocols", joined.lstrip(" "))

    # -- the old auth {} section -------------------------------------------------------

    def _auth_section(self, key: str, value: str) -> bool:
        if self.auth_section == 0 and self.seen_auth_section:
            self.obsolete("Multiple auth sections are no longer supported")
            return False
        self.seen_auth_section = True
        self.socket = SocketSet()
        self.auth_section += 1
        if key in ("passdb", "userdb") and self.auth_section == 2:
            self.obsolete(f"{key} {value} {{}} has been replaced by {key} {{ driver={value} }}")
            self._section(key, "")
            self._assign("driver", value)
            return True
        if key == "socket" and self.auth_section == 2:
            if value == "connect":
                self.obsolete("socket connect {} is no longer supported, configure external auth server separately")
                return False
            if value != "listen":
                return False
            self.socket_listen_section += 1
            return True
        if self.socket_listen_section > 0:
            self.socket_listen_section += 1
        if key in ("master", "client") and self.socket_listen_section == 2:
            self.socket.master = key == "master"
            return True
        return False

    def _socket_apply(self) -> None:
        sock = self.socket
        if sock.path is None:
            self.builder.fail("socket listen {} is missing path")
            return
        path = sock.path
        if path.startswith(self.base_dir + "/"):
            path = path[len(self.base_dir) + 1:]
        master_suffix = len(path) >= 7 and path[-7:] in ("-master", "-userdb")
        if sock.master and not master_suffix:
            self.builder.fail("socket listen { master { path=.. } } must end with -master (or -userdb) suffix")
            return
        if not sock.master and master_suffix:
            self.builder.fail("socket listen { client { path=.. } } must end not with -master or -userdb suffix")
            return
        self.builder.add_listener("auth", path)
        for name in ("mode", "user", "group"):
            value = getattr(sock, name)
            if value is not None:
                self.builder.apply_listener_value("auth", path, name, value)
        self.socket = SocketSet()
