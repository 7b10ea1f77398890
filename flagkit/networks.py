"""IP networks: CIDR blocks parsed once, and a fast "is this address inside?" test.

`parse_networks(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])` reads IPv4 and IPv6
blocks (a single address is a block of one address); a block with host bits set
(`10.0.0.1/8`) is refused with the network it probably means, since whoever wrote
it meant either that network or the one address, and guessing would be wrong half
the time. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`), as a dual-stack server
reports an IPv4 client, counts as the IPv4 address, on either side.

Blocks are kept as `(network, mask)` integers; `Networks.contains` parses a
tenant's address once (a bounded cache: addresses repeat) and compares integers.
`ipaddress` is imported when first needed, so `import flagkit` stays light.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NetworkError", "Networks", "parse_networks"]

_IPV4_BITS = 32
_IPV6_BITS = 128
_MAPPED_IPV4_PREFIX = 0xFFFF << 32
"""`::ffff:0:0/96`: the IPv6 addresses that stand for IPv4 ones."""

Block = tuple[int, int]
"""`(network, mask)` as integers: an address `a` is inside when `a & mask == network`."""


class NetworkError(ValueError):
    """A CIDR block that cannot be read; `index` is its position in the list."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.index = index


def _mask(prefix_length: int, bits: int) -> int:
    return ((1 << prefix_length) - 1) << (bits - prefix_length)


def _as_ipv4_block(network: int, prefix_length: int) -> Block | None:
    """An IPv6 block inside `::ffff:0:0/96` as the IPv4 block it stands for."""
    if prefix_length < 96 or network & _mask(96, _IPV6_BITS) != _MAPPED_IPV4_PREFIX:
        return None
    return network & 0xFFFF_FFFF, _mask(prefix_length - 96, _IPV4_BITS)


def _block(text: str, index: int) -> tuple[int, Block]:
    """`(IP version, block)` of one block of the list."""
    import ipaddress

    quoted = json.dumps(text, ensure_ascii=False, default=repr)
    not_a_block = NetworkError(
        f"{quoted} is not an IPv4 or IPv6 address or CIDR block"
        ' (e.g. "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")',
        index=index,
    )
    if not isinstance(text, str):  # ipaddress would read the int 10 as 0.0.0.10
        raise not_a_block
    try:
        network = ipaddress.ip_network(text)
    except ValueError:
        try:
            meant = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise not_a_block from None
        raise NetworkError(
            f"{quoted} has host bits set: write the network {json.dumps(str(meant))}"
            f" or the single address {json.dumps(text.partition('/')[0])}",
            index=index,
        ) from None
    address, prefix_length = int(network.network_address), network.prefixlen
    if network.version == 6:
        mapped = _as_ipv4_block(address, prefix_length)
        if mapped is not None:
            return 4, mapped
        return 6, (address, _mask(prefix_length, _IPV6_BITS))
    return 4, (address, _mask(prefix_length, _IPV4_BITS))


def parse_networks(blocks: Sequence[str]) -> Networks:
    """The networks of a list of CIDR blocks; raises NetworkError naming the bad block."""
    parsed = [_block(text, index) for index, text in enumerate(blocks)]
    return Networks(
        ipv4=tuple(block for version, block in parsed if version == 4),
        ipv6=tuple(block for version, block in parsed if version == 6),
    )


@lru_cache(maxsize=4096)
def _address(text: str) -> tuple[int, int] | None:
    """`(IP version, address)` of a tenant's address, mapped IPv4 as IPv4; None if not one."""
    import ipaddress

    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is None:
            return 6, int(address)
        address = mapped
    return 4, int(address)


@dataclass(frozen=True, slots=True)
class Networks:
    """Parsed CIDR blocks, IPv4 and IPv6 apart, as `(network, mask)` integers."""

    ipv4: tuple[Block, ...]
    ipv6: tuple[Block, ...]

    def contains(self, value: object) -> bool:
        """Whether `value` is a string holding an IP address inside one of the blocks.

        Anything else (a malformed address, a number, None) is not inside: False.
        """
        if not isinstance(value, str):
            return False
        parsed = _address(value)
        if parsed is None:
            return False
        version, address = parsed
        blocks = self.ipv4 if version == 4 else self.ipv6
        for network, mask in blocks:  # noqa: SIM110 (a loop: no generator on the hot path)
            if address & mask == network:
                return True
        return False
