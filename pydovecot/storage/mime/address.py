"""Address lists parsed as Dovecot's ``message-address.c`` (with fill_missing for ENVELOPE)."""

from __future__ import annotations

from dataclasses import dataclass

from pydovecot.storage.mime.rfc822 import Cursor

MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
SYNTAX_ERROR = b"SYNTAX_ERROR"


@dataclass(slots=True)
class Address:
    """One ENVELOPE address; a group start has only ``mailbox``, a group end has nothing."""

    name: bytes | None = None
    route: bytes | None = None
    mailbox: bytes | None = None
    domain: bytes | None = None
    invalid: bool = False


class _Ctx:
    def __init__(self, data: bytes, fill_missing: bool) -> None:
        self.cur = Cursor(data)
        self.fill = fill_missing
        self.out: list[Address] = []
        self.addr = Address()

    def add(self) -> None:
        self.out.append(self.addr)
        self.addr = Address()

    def add_fixed(self) -> None:
        a = self.addr
        if a.mailbox is None:
            a.mailbox = MISSING_MAILBOX if self.fill else b""
            a.invalid = True
        if not a.domain:
            a.domain = MISSING_DOMAIN if self.fill else b""
            a.invalid = True
        self.add()

    # local-part = dot-atom / quoted-string
    def local_part(self) -> int:
        cur = self.cur
        out = bytearray()
        if cur.peek() == 0x22:
            ret = cur.parse_quoted_string(out)
        else:
            ret = cur.parse_dot_atom(out)
        if ret < 0:
            return -1
        self.addr.mailbox = bytes(out)
        return ret

    def domain(self) -> int:
        out = bytearray()
        ret = self.cur.parse_domain(out)
        if ret < 0:
            return -1
        self.addr.domain = bytes(out)
        return ret

    def domain_list(self) -> int:
        """route: "@" domain *("," [CFWS] "@" domain)."""
        cur = self.cur
        route = bytearray()
        while True:
            if cur.at_end() or cur.peek() != 0x40:
                break
            out = bytearray()
            ret = cur.parse_domain(out)
            if ret <= 0:
                return ret
            if route:
                route.append(0x2C)
            route += b"@" + out
            if cur.peek() != 0x2C:
                break
            cur.pos += 1
            if cur.skip_lwsp() <= 0:
                return -1
        self.addr.route = bytes(route)
        return 1

    def angle_addr(self) -> int:
        cur = self.cur
        cur.pos += 1  # '<'
        ret = cur.skip_lwsp()
        if ret <= 0:
            return -1 if ret < 0 else 0
        if cur.peek() == 0x40:
            if self.domain_list() > 0 and cur.peek() == 0x3A:
                cur.pos += 1
            else:
                return -1
            ret = cur.skip_lwsp()
            if ret <= 0:
                return -1 if ret < 0 else 0
        if cur.peek() == 0x3E:
            cur.pos += 1
            return cur.skip_lwsp()
        ret = self.local_part()
        if ret <= 0:
            return -1
        if cur.peek() == 0x40:
            ret = self.domain()
            if ret <= 0:
                return -1
        if cur.peek() != 0x3E:
            return -1
        cur.pos += 1
        return cur.skip_lwsp()

    def name_addr(self) -> int:
        cur = self.cur
        if cur.peek() != 0x3C:
            out = bytearray()
            if cur.parse_phrase(out) <= 0 or cur.peek() != 0x3C:
                return -1
            self.addr.name = bytes(out) if out else None
        ret = self.angle_addr()
        if ret < 0:
            # a broken <address> still counts as this mailbox (no addr-spec retry)
            self.addr.domain = SYNTAX_ERROR
            self.addr.invalid = True
            return 0
        return ret

    def addr_spec(self) -> int:
        cur = self.cur
        cur.last_comment = None
        quoted = cur.peek() == 0x22
        ret = self.local_part() if not cur.at_end() else 0
        if ret <= 0:
            self.addr.invalid = True
        ret2 = -2
        if ret != 0 and cur.peek() == 0x40:
            ret2 = self.domain()
            if ret2 <= 0:
                ret = ret2
        if cur.last_comment:
            self.addr.name = cur.last_comment
        elif ret2 == -2:
            # "user" alone is a mailbox; "user more words" is a display name
            out = bytearray(self.addr.mailbox or b"")
            out.append(0x20)
            before = len(out)
            if not cur.at_end():
                cur.parse_phrase(out)
            if len(out) != before:
                self.addr.mailbox = None
                self.addr.name = bytes(out)
            elif not quoted:
                self.addr.domain = b""
            else:
                # a lone "quoted string" is a display name without an address
                self.addr.name, self.addr.mailbox = self.addr.mailbox, None
            if not cur.at_end() and cur.peek() == 0x3C:
                ret = self.angle_addr()
                if ret < 0:
                    self.addr.domain = SYNTAX_ERROR
                    self.addr.invalid = True
        return ret

    def mailbox(self) -> int:
        cur = self.cur
        start = cur.pos
        ret = self.name_addr()
        if ret < 0:
            cur.pos = start
            self.addr = Address()
            ret = self.addr_spec()
        self.add_fixed()
        return ret

    def group(self) -> int:
        cur = self.cur
        out = bytearray()
        if cur.parse_phrase(out) <= 0 or cur.peek() != 0x3A:
            return -1
        cur.pos += 1
        ret = cur.skip_lwsp()
        self.addr.mailbox = bytes(out)
        self.add()
        if ret > 0 and cur.peek() != 0x3B:
            while True:
                if self.mailbox() <= 0:
                    ret = -1
                    break
                if cur.at_end() or cur.peek() != 0x2C:
                    break
                cur.pos += 1
                if cur.skip_lwsp() <= 0:
                    ret = -1
                    break
        if ret >= 0:
            if cur.at_end() or cur.peek() != 0x3B:
                ret = -1
            else:
                cur.pos += 1
                ret = cur.skip_lwsp()
        self.add()  # group end
        return 0 if ret == 0 else 1

    def address(self) -> int:
        cur = self.cur
        start = cur.pos
        saved = len(self.out)
        ret = self.group()
        if ret < 0:
            del self.out[saved:]
            self.addr = Address()
            cur.pos = start
            ret = self.mailbox()
        return ret

    def address_list(self) -> None:
        cur = self.cur
        while True:
            if self.address() == 0:
                break
            if cur.at_end() or cur.peek() != 0x2C:
                break
            cur.pos += 1
            ret = cur.skip_lwsp()
            if ret <= 0:
                if ret < 0:
                    self.add_fixed()
                break


def parse_addresses(data: bytes, fill_missing: bool = True) -> list[Address] | None:
    """Parse an address-list header value; None when it holds no address at all."""
    ctx = _Ctx(data, fill_missing)
    if ctx.cur.skip_lwsp() <= 0:
        return None
    ctx.address_list()
    return ctx.out or None
