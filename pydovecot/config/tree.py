"""The settings tree: what a configuration says, after parsing and checking.

A tree holds one ``Scope`` per filter (the global one first, then ``protocol imap {}``,
``local 10.0.0.0/8 {}``... in the order they were opened).  Each scope has a root ``Node``
holding the values written inside that filter and which of them were set explicitly;
sections (services, namespaces, passdbs...) are child nodes.  ``lookup()`` merges the
scopes that match a connection the way Dovecot does, and ``get()`` reads a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from pydovecot.settings.model import Kind, SectionType, Setting

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ipaddress

    IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Net:
    """An address with a prefix length, kept as written (``10.1.2.3/8`` stays so)."""

    address: IPAddress
    bits: int

    @property
    def full(self) -> bool:
        return self.bits == self.address.max_prefixlen

    def contains(self, other: Net | IPAddress) -> bool:
        address = other.address if isinstance(other, Net) else other
        if address.version != self.address.version:
            return False
        import ipaddress

        network = ipaddress.ip_network(f"{self.address}/{self.bits}", strict=False)
        return address in network

    def __str__(self) -> str:
        return str(self.address) if self.full else f"{self.address}/{self.bits}"


@dataclass(frozen=True, slots=True)
class Filter:
    service: str | None = None
    local: Net | None = None
    remote: Net | None = None
    local_name: str | None = None

    @property
    def is_global(self) -> bool:
        return self == Filter()

    @property
    def uses_local_or_remote(self) -> bool:
        return self.local is not None or self.remote is not None or self.local_name is not None

    def matches(self, wanted: Filter) -> bool:
        """Whether settings in this filter apply to a connection described by ``wanted``."""
        if self.service is not None:
            if wanted.service is None:
                return False
            if self.service.startswith("!"):
                if wanted.service == self.service[1:]:
                    return False
            elif wanted.service != self.service:
                return False
        return self.matches_rest(wanted)

    def matches_rest(self, wanted: Filter) -> bool:
        if self.local_name is not None and not _name_matches(self.local_name, wanted.local_name):
            return False
        if self.remote is not None and (wanted.remote is None or not self.remote.contains(wanted.remote)):
            return False
        if self.local is not None and (wanted.local is None or not self.local.contains(wanted.local)):
            return False
        return True

    def specificity(self) -> tuple[int, int, int, int]:
        """Sort key: less specific filters first (their values are overridden by later ones)."""
        return (
            self.local_name is not None,
            self.local.bits if self.local else 0,
            self.remote.bits if self.remote else 0,
            self.service is not None,
        )


_BY_NAME: dict[int, dict[str, Setting]] = {}


def find_setting(stype: SectionType, name: str) -> Setting | None:
    """A section type's setting by name, old aliases included (cached lookup table)."""
    table = _BY_NAME.get(id(stype))
    if table is None:
        table = {s.name: s for s in stype.settings}
        for alias, target in getattr(stype, "aliases", ()):
            if target in table:
                table.setdefault(alias, table[target])
        _BY_NAME[id(stype)] = table
    return table.get(name)


@cache
def default_value(setting: Setting) -> object:
    """The typed default of a setting (parsed once from its doveconf text)."""
    from pydovecot.config.values import parse

    if setting.kind is Kind.ENUM:
        return setting.values[0] if setting.values else setting.default
    if setting.kind in (Kind.LIST, Kind.STRLIST):
        return None
    return parse(setting, setting.default)


class Node:
    """One settings struct: the root of a scope, or one section instance."""

    __slots__ = ("stype", "name", "values", "changed", "lists", "strlists", "defaults")

    def __init__(self, stype: SectionType, name: str = "", defaults: dict[str, object] | None = None) -> None:
        self.stype = stype
        self.name = name
        # Values that differ from the section type's defaults without having been set
        # by the admin (a built-in service's executable, say).
        self.defaults: dict[str, object] = dict(defaults) if defaults else {}
        self.values: dict[str, object] = {}
        self.changed: set[str] = set()
        self.lists: dict[str, SectionList] = {}
        self.strlists: dict[str, dict[str, str]] = {}

    def get(self, name: str) -> object:
        if name in self.values:
            return self.values[name]
        if name in self.defaults:
            return self.defaults[name]
        setting = find_setting(self.stype, name)
        if setting is None:
            raise KeyError(name)
        if setting.kind is Kind.LIST:
            return self.lists.get(name, SectionList(unique=True)).items
        if setting.kind is Kind.STRLIST:
            return dict(self.strlists.get(name, {}))
        return default_value(setting)

    def base_value(self, setting: Setting) -> object:
        """The value this node has when nothing was set: built-in default or type default."""
        if setting.name in self.defaults:
            return self.defaults[setting.name]
        return default_value(setting)

    def copy(self) -> Node:
        twin = Node(self.stype, self.name, self.defaults)
        twin.values = dict(self.values)
        twin.changed = set(self.changed)
        twin.lists = {k: v.copy() for k, v in self.lists.items()}
        twin.strlists = {k: dict(v) for k, v in self.strlists.items()}
        return twin


@dataclass
class SectionList:
    """The instances of one LIST setting, in creation order.

    ``unique`` lists (services, namespaces, listeners, mailboxes) are keyed by the name
    the section was opened with; others (passdb, userdb) by a counter, like Dovecot."""

    unique: bool
    items: list[Node] = field(default_factory=list)
    keys: dict[str, Node] = field(default_factory=dict)

    def copy(self) -> SectionList:
        twin = SectionList(self.unique)
        for key, node in self.keys.items():
            dup = node.copy()
            twin.keys[key] = dup
        by_id = {id(node): key for key, node in self.keys.items()}
        twin.items = [twin.keys[by_id[id(node)]] for node in self.items]
        return twin


@dataclass
class Scope:
    filter: Filter
    root: Node
    file_and_line: str


@dataclass
class SettingsTree:
    """An immutable view of a parsed configuration (treat it as read-only)."""

    path: str
    scopes: list[Scope]
    # Errors found by the whole-tree checks; doveconf prints the tree, then fails on them.
    errors: list[str] = field(default_factory=list)
    # An error that ended the parse early but still lets doveconf print what was read
    # (a section left open at the end of the file).
    fatal: str | None = None
    # lookup()'s merged nodes by the scopes that matched: every connection looks its settings up,
    # and merging copies the whole tree. Bounded: it depends on the filters, not on addresses.
    _merged: dict[tuple[int, ...], Node] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def global_scope(self) -> Scope:
        return self.scopes[0]

    def lookup(self, service: str | None = None, local: str | None = None,
               remote: str | None = None, local_name: str | None = None) -> Node:
        """The settings a connection sees: the global values overridden by every matching
        filter, the most specific last (Dovecot's rule). Shared between callers: read-only."""
        wanted = Filter(
            service=service,
            local=_host_net(local),
            remote=_host_net(remote),
            local_name=local_name,
        )
        key = tuple(i for i, s in enumerate(self.scopes) if s.filter.matches(wanted))
        node = self._merged.get(key)
        if node is None:
            node = self._merged[key] = self.merged(wanted)
        return node

    def merged(self, wanted: Filter) -> Node:
        from pydovecot.config.merge import merge_scopes

        matching = [s for s in self.scopes if s.filter.matches(wanted)]
        return merge_scopes(matching)

    def get(self, name: str, **filter_args: str | None) -> object:
        return self.lookup(**filter_args).get(name)


def _name_matches(pattern: str, name: str | None) -> bool:
    """local_name takes host names with '*' wildcards (``*.example.com``)."""
    if name is None:
        return False
    if "*" not in pattern:
        return pattern == name
    from fnmatch import fnmatchcase

    return fnmatchcase(name, pattern)


def _host_net(address: str | None) -> Net | None:
    if address is None:
        return None
    import ipaddress

    ip = ipaddress.ip_address(address)
    return Net(ip, ip.max_prefixlen)
