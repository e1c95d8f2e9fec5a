"""Applies a tree's statements to settings: the typed, checked ``SettingsTree``.

Follows Dovecot 2.3's rules: a section stack; filters (protocol, local, remote,
local_name) each with their own scope; unique sections (services, namespaces, listeners,
mailboxes) merged by name, others (passdb, userdb) kept in order; ``$name`` reads the
value set so far; ``<file`` values read only when values are expanded; the first error
stops the parse with the file and line it came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pydovecot.config import parser as p
from pydovecot.config.errors import ConfigError
from pydovecot.config.tree import Filter, Net, Node, Scope, SectionList, SettingsTree, find_setting
from pydovecot.config.values import ValueError_, format_value, parse
from pydovecot.settings.model import DefaultInstance, Kind, SectionType, Setting

FILTER_KEYS = ("protocol", "local", "remote", "local_name")


def is_unique(stype: SectionType) -> bool:
    return stype.key is not None and stype.unique


@dataclass
class _Frame:
    key: str | None  # the section keyword ("service"), None for the file's top level
    is_filter: bool
    scope: Scope
    node: Node | None  # where assignments go; None inside a section that holds nothing
    strlist: dict[str, str] | None
    path: str
    line: int
    prefix: str  # Dovecot's key path of this section ("service/imap/"), for warnings


def _registry():  # type: ignore[no-untyped-def]
    import pydovecot.settings as registry

    return registry


def _instance_node(registry, instance: DefaultInstance) -> Node:  # type: ignore[no-untyped-def]
    stype: SectionType = registry.SECTION_TYPES[instance.section]
    defaults: dict[str, object] = {}
    for name, text in instance.values:
        setting = stype.setting(name)
        if setting is not None and setting.kind not in (Kind.LIST, Kind.STRLIST):
            defaults[name] = parse(setting, text)
    if stype.key is not None:
        defaults[stype.key] = instance.name
    node = Node(stype, instance.name, defaults)
    for child in instance.children:
        child_type = registry.SECTION_TYPES[child.section]
        holder = _list_setting_for(stype, child_type.name)
        lst = node.lists.setdefault(holder, SectionList(unique=is_unique(child_type)))
        child_node = _instance_node(registry, child)
        lst.items.append(child_node)
        lst.keys[child.name] = child_node
    return node


def _list_setting_for(stype: SectionType, section_name: str) -> str:
    for setting in stype.settings:
        if setting.kind is Kind.LIST and setting.section == section_name:
            return setting.name
    return section_name


def new_root(registry) -> Node:  # type: ignore[no-untyped-def]
    """A scope's root with the built-in section instances (the default services)."""
    root = Node(registry.ROOT)
    for instance in registry.DEFAULT_INSTANCES:
        stype = registry.SECTION_TYPES[instance.section]
        holder = _list_setting_for(registry.ROOT, stype.name)
        lst = root.lists.setdefault(holder, SectionList(unique=is_unique(stype)))
        node = _instance_node(registry, instance)
        lst.items.append(node)
        lst.keys[instance.name] = node
    return root


def parse_net(text: str) -> Net:
    """An IP with optional /bits, or a host name resolved as Dovecot does."""
    import ipaddress  # only configs with local/remote filters pay for these imports
    import socket

    address, _, bits_text = text.partition("/")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        try:
            ip = ipaddress.ip_address(socket.gethostbyname(address))
        except (OSError, UnicodeError):
            raise ValueError_(f"gethostbyname({address}) failed: Unknown host") from None
    if not bits_text and "/" not in text:
        return Net(ip, ip.max_prefixlen)
    if bits_text.isascii() and bits_text.isdigit() and int(bits_text) <= ip.max_prefixlen:
        return Net(ip, int(bits_text))
    raise ValueError_(f"Invalid network mask: {bits_text}")


class Builder:
    def __init__(self, path: str, *, expand_values: bool, warn: p.Warn, error: p.Warn) -> None:
        from pydovecot.config.obsolete import ObsoleteSettings

        self.registry = _registry()
        self.path = path
        self.expand_values = expand_values
        self.warn = warn
        self.error = error
        self.obsolete = ObsoleteSettings(self)
        root_scope = Scope(Filter(), new_root(self.registry), path)
        self.scopes: list[Scope] = [root_scope]
        self.stack: list[_Frame] = [_Frame(None, False, root_scope, root_scope.root, None, path, 0, "")]
        self.section_counter = 0
        self.seen_in_sections: dict[str, str] = {}
        self.auth_root = self.registry.AUTH_KEYS_REFUSED_IN_NET_FILTERS

    # -- statements ---------------------------------------------------------------

    def apply(self, st: p.Statement) -> None:
        """Applies one statement, translating obsolete settings first."""
        try:
            if not self.obsolete.handle(st):
                self.apply_statement(st)
        except ValueError_ as e:
            raise ConfigError(str(e), st.path, st.line) from None

    def fail(self, message: str) -> None:
        raise ValueError_(message)

    def apply_statement(self, st: p.Statement) -> None:
        if st.kind == p.SECTION_OPEN:
            self._open(st)
        elif st.kind == p.SECTION_CLOSE:
            if len(self.stack) == 1:
                raise ValueError_("Unexpected '}'")
            self.stack.pop()
        else:
            self._assign(st)

    def apply_path(self, path: str, value: str, *, ignore_errors: bool = False) -> None:
        """Sets a setting by Dovecot's key path (``service/imap-login/chroot``) on the
        global scope, as the obsolete-setting translations do."""
        set_path(self.scopes[0].root, path, value, ignore_errors=ignore_errors)

    def add_listener(self, service: str, path: str) -> None:
        """Adds ``unix_listener PATH`` to a service of the global scope."""
        service_node = self.scopes[0].root.lists["service"].keys[service]
        stype = self.registry.SECTION_TYPES["unix_listener"]
        lst = service_node.lists.setdefault("unix_listener", SectionList(unique=True))
        if path not in lst.keys:
            child = Node(stype, path)
            lst.items.append(child)
            lst.keys[path] = child
        child = lst.keys[path]
        child.values["path"] = path
        child.changed.add("path")

    def apply_listener_value(self, service: str, path: str, name: str, value: str) -> None:
        listener = self.scopes[0].root.lists["service"].keys[service].lists["unix_listener"].keys[path]
        setting = find_setting(listener.stype, name)
        assert setting is not None
        listener.values[name] = parse(setting, value)
        listener.changed.add(name)

    def finish(self) -> SettingsTree:
        from pydovecot.config.checks import check_tree

        tree = SettingsTree(self.path, self.scopes)
        if len(self.stack) > 1:
            # Dovecot reports this after printing what it read.
            frame = self.stack[-1]
            tree.fatal = f"Missing '}}' (section started at {frame.path}:{frame.line})"
            return tree
        tree.errors = check_tree(tree, self.warn)
        return tree

    # -- assignments ----------------------------------------------------------------

    def _full_path(self, key: str) -> str:
        parts = [f"{f.key} {{ " for f in self.stack[1:] if not f.is_filter]
        return "".join(parts) + key

    def _assign(self, st: p.Statement) -> None:
        frame = self.stack[-1]
        self._check_global_after_filter(st, frame)
        value = self._value_text(st, frame)
        if frame.strlist is not None:
            frame.strlist[st.key] = value
            return
        node = frame.node
        setting = find_setting(node.stype, st.key) if node is not None else None
        if setting is None or setting.kind in (Kind.LIST, Kind.STRLIST):
            raise ValueError_(f"Unknown setting: {self._full_path(st.key)}")
        typed = parse(setting, value)
        if setting.name in self.auth_root and node is frame.scope.root and self._in_local_remote():
            raise ValueError_(f"Auth settings not supported inside local/remote blocks: {st.key}")
        assert node is not None
        node.values[setting.name] = typed
        node.changed.add(setting.name)

    def _in_local_remote(self) -> bool:
        return any(f.scope.filter.uses_local_or_remote for f in self.stack)

    def _check_global_after_filter(self, st: p.Statement, frame: _Frame) -> None:
        full_key = frame.prefix + st.key
        where = f"{st.path} line {st.line}"
        if len(self.stack) > 1:
            self.seen_in_sections.setdefault(full_key, where)
            return
        first = self.seen_in_sections.get(full_key)
        if first is not None:
            self.warn(
                f"{where}: Global setting {st.key} won't change the setting inside an earlier filter at "
                f"{first} (if this is intentional, avoid this warning by moving the global setting before {first})"
            )

    def _value_text(self, st: p.Statement, frame: _Frame) -> str:
        if st.kind == p.ASSIGN:
            return st.value
        if st.kind == p.ASSIGN_FILE:
            if not self.expand_values:
                return "<" + st.value
            path = p.relative_to(st.value, st.path)
            try:
                with open(path, "rb") as f:
                    return f.read().decode("utf-8", "surrogateescape")
            except OSError as e:
                raise ValueError_(f"{st.key}: Can't open file {path}: {os.strerror(e.errno or 5)}") from None
        return self._expand_variables(st.key, st.value)

    def _expand_variables(self, key: str, value: str) -> str:
        """Dovecot 2.3.19: each space-separated word that starts with '$' names a setting.
        Words are expanded only with -x, except ``$key`` inside ``key = ...`` itself, which
        is always expanded so that ``mail_plugins = $mail_plugins quota`` works."""
        out: list[str] = []
        for index, word in enumerate(value.split(" ")):
            if index:
                out.append(" ")
            if not word.startswith("$"):
                out.append(word)
                continue
            name = word[1:]
            expand_parent = name == key
            if not self.expand_values and not expand_parent:
                out.append(word)
            elif name.startswith("ENV:"):
                out.append(os.environ.get(name[4:], ""))
            else:
                found = self._variable(name, expand_parent)
                if found is None:
                    raise ValueError_(f"Unknown variable: {word}")
                setting, typed = found
                out.append(format_value(setting, typed))
        return "".join(out)

    def _variable(self, name: str, expand_parent: bool) -> tuple[Setting, object] | None:
        for frame in reversed(self.stack):
            root = frame.scope.root
            setting = find_setting(root.stype, name)
            if setting is None or setting.kind in (Kind.LIST, Kind.STRLIST):
                return None
            if not expand_parent or frame is self.stack[0] or name in root.changed:
                return setting, root.get(name)
        return None

    # -- sections -----------------------------------------------------------------

    def _open(self, st: p.Statement) -> None:
        frame = self.stack[-1]
        if st.key in FILTER_KEYS and frame.strlist is None:
            self._open_filter(st, frame)
            return
        if st.value:
            section_key = st.value
        else:
            section_key = str(self.section_counter)
            self.section_counter += 1
        prefix = f"{frame.prefix}{st.key}/{section_key}/"
        pending = _Frame(st.key, False, frame.scope, None, None, st.path, st.line, prefix)
        self.stack.append(pending)
        if frame.strlist is not None:
            raise ValueError_("Section not allowed here")
        node = frame.node
        setting = find_setting(node.stype, st.key) if node is not None else None
        if setting is None:
            raise ValueError_(f"Unknown setting: {self._full_path(st.key)}")
        assert node is not None
        if setting.kind is Kind.STRLIST:
            pending.strlist = node.strlists.setdefault(setting.name, {})
            return
        if setting.kind is not Kind.LIST:
            parse(setting, section_key)
            return
        if setting.name in self.auth_root and self._in_local_remote():
            raise ValueError_(f"Auth settings not supported inside local/remote blocks: {st.key}")
        stype: SectionType = self.registry.SECTION_TYPES[setting.section]
        lst = node.lists.setdefault(setting.name, SectionList(unique=is_unique(stype)))
        child = lst.keys.get(section_key)
        if child is None:
            child = Node(stype, st.value)
            lst.items.append(child)
            lst.keys[section_key] = child
        elif not lst.unique:
            raise ValueError_(f"{frame.prefix}{st.key}/{section_key} already exists")
        if stype.key is not None:
            child.values[stype.key] = st.value
            child.changed.add(stype.key)
            child.name = st.value
        pending.node = child

    def _open_filter(self, st: p.Statement, frame: _Frame) -> None:
        parent = frame.scope.filter
        value = st.value
        self.stack.append(_Frame(st.key, True, frame.scope, frame.node, None, st.path, st.line, frame.prefix))
        if st.key == "protocol":
            if parent.service is not None:
                raise ValueError_("Nested protocol { protocol { .. } } block not allowed")
            new = Filter(value, parent.local, parent.remote, parent.local_name)
        elif st.key == "local":
            if parent.remote is not None:
                raise ValueError_("remote { local { .. } } not allowed (use local { remote { .. } } instead)")
            if parent.service is not None:
                raise ValueError_("protocol { local { .. } } not allowed (use local { protocol { .. } } instead)")
            if parent.local_name is not None:
                raise ValueError_(
                    "local_name { local { .. } } not allowed (use local { local_name { .. } } instead)")
            net = parse_net(value)
            if parent.local is not None and (parent.local.bits > net.bits or not parent.local.contains(net)):
                raise ValueError_("local net1 { local net2 { .. } } requires net2 to be inside net1")
            new = Filter(parent.service, net, parent.remote, parent.local_name)
        elif st.key == "local_name":
            if parent.remote is not None:
                raise ValueError_(
                    "remote { local_name { .. } } not allowed (use local_name { remote { .. } } instead)")
            if parent.service is not None:
                raise ValueError_(
                    "protocol { local_name { .. } } not allowed (use local_name { protocol { .. } } instead)")
            new = Filter(parent.service, parent.local, parent.remote, value)
        else:
            if parent.service is not None:
                raise ValueError_("protocol { remote { .. } } not allowed (use remote { protocol { .. } } instead)")
            net = parse_net(value)
            if parent.remote is not None and (parent.remote.bits > net.bits or not parent.remote.contains(net)):
                raise ValueError_("remote net1 { remote net2 { .. } } requires net2 to be inside net1")
            new = Filter(parent.service, parent.local, net, parent.local_name)
        scope = next((s for s in self.scopes if s.filter == new), None)
        if scope is None:
            scope = Scope(new, new_root(self.registry), f"{st.path}:{st.line}")
            self.scopes.append(scope)
        top = self.stack[-1]
        top.scope = scope
        if not frame.prefix:
            top.node = scope.root


def set_path(node: Node, path: str, value: str, *, ignore_errors: bool = False) -> None:
    """Sets a setting below ``node`` by Dovecot's key path: ``name``, ``plugin/quota`` or
    ``service/imap-login/inet_listener/imap/port``.  Raises ValueError_ with Dovecot's text."""
    from pydovecot.config.dump import section_unescape

    parts = path.split("/")
    while len(parts) > 1:
        setting = find_setting(node.stype, parts[0])
        if setting is not None and setting.kind is Kind.STRLIST:
            node.strlists.setdefault(setting.name, {})["/".join(parts[1:])] = value
            return
        lst = node.lists.get(setting.name) if setting is not None and setting.kind is Kind.LIST else None
        child = lst.keys.get(section_unescape(parts[1])) if lst is not None else None
        if child is None:
            if ignore_errors:
                return
            raise ValueError_(f"Unknown setting: {parts[-1]}")
        node, parts = child, parts[2:]
    setting = find_setting(node.stype, parts[0])
    if setting is None or setting.kind in (Kind.LIST, Kind.STRLIST):
        if ignore_errors:
            return
        raise ValueError_(f"Unknown setting: {parts[0]}")
    node.values[setting.name] = parse(setting, value)
    node.changed.add(setting.name)


def build(path: str, *, expand_values: bool = False, warn: p.Warn | None = None,
          error: p.Warn | None = None, deps: list[list[object]] | None = None) -> SettingsTree:
    warnings = warn if warn is not None else (lambda message: None)
    errors = error if error is not None else (lambda message: None)
    builder = Builder(path, expand_values=expand_values, warn=warnings, error=errors)
    for statement in p.read_statements(path, warnings, deps=deps):
        builder.apply(statement)
    return builder.finish()


def check_all(path: str, *, warn: p.Warn | None = None) -> tuple[SettingsTree | None, list[ConfigError]]:
    """Every error of a tree, instead of only the first (doveconf --check).

    A statement in error is skipped and reading goes on; a section that failed to open
    still counts for brace matching, so one bad line does not cascade."""
    warnings = warn if warn is not None else (lambda message: None)
    found: list[ConfigError] = []

    def collect(message: str) -> None:
        found.append(ConfigError(message))

    try:
        builder = Builder(path, expand_values=False, warn=warnings, error=collect)
        statements = p.read_statements(path, warnings, keep_going=True)
        for statement in statements:
            if statement.kind == p.ERROR:
                found.append(ConfigError(statement.value, statement.path, statement.line))
                continue
            try:
                builder.apply(statement)
            except ConfigError as e:
                found.append(e)
        tree = builder.finish()
    except ConfigError as e:
        return None, found + [e]
    if tree.fatal:
        found.append(ConfigError(tree.fatal, path))
    found.extend(ConfigError(message, path) for message in tree.errors)
    return tree, found
