"""CIDR blocks: IPv4, IPv6, single addresses, IPv4-mapped IPv6, what is not an address,
and blocks refused with whole messages."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.networks import NetworkError, parse_networks

OFFICE = ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "203.0.113.7"]


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        pytest.param("10.1.2.3", True, id="ipv4-inside-a-slash-8"),
        pytest.param("10.255.255.255", True, id="ipv4-last-of-a-slash-8"),
        pytest.param("11.0.0.0", False, id="ipv4-just-after-a-slash-8"),
        pytest.param("9.255.255.255", False, id="ipv4-just-before-a-slash-8"),
        pytest.param("192.168.1.200", True, id="ipv4-inside-a-slash-24"),
        pytest.param("192.168.2.1", False, id="ipv4-outside-a-slash-24"),
        pytest.param("203.0.113.7", True, id="the-single-address"),
        pytest.param("203.0.113.8", False, id="next-to-the-single-address"),
        pytest.param("2001:db8::1", True, id="ipv6-inside"),
        pytest.param("2001:DB8:ffff::abcd", True, id="ipv6-upper-case-inside"),
        pytest.param("2001:db9::1", False, id="ipv6-outside"),
        pytest.param("::ffff:10.1.2.3", True, id="mapped-ipv4-inside"),
        pytest.param("::ffff:11.1.2.3", False, id="mapped-ipv4-outside"),
        pytest.param("::a01:203", False, id="ipv4-compatible-is-not-mapped"),
        pytest.param("fe80::1%eth0", False, id="scoped-ipv6-outside"),
        pytest.param("10.1.2", False, id="three-octets"),
        pytest.param("010.1.2.3", False, id="leading-zero-octet"),
        pytest.param("10.1.2.3/32", False, id="a-block-is-not-an-address"),
        pytest.param(" 10.1.2.3", False, id="leading-space"),
        pytest.param("office", False, id="not-an-address"),
        pytest.param("", False, id="empty"),
        pytest.param(167_838_211, False, id="int-of-10.1.2.3"),
        pytest.param(None, False, id="none"),
        pytest.param(["10.1.2.3"], False, id="list"),
        pytest.param(b"10.1.2.3", False, id="bytes"),
    ],
)
def test_contains(value: object, inside: bool) -> None:
    assert parse_networks(OFFICE).contains(value) is inside


@pytest.mark.parametrize(
    ("blocks", "value", "inside"),
    [
        pytest.param(["::ffff:10.0.0.0/104"], "10.1.2.3", True, id="mapped-block-holds-ipv4"),
        pytest.param(["::ffff:10.0.0.0/104"], "11.1.2.3", False, id="mapped-block-not-ipv4"),
        pytest.param(["::ffff:10.1.2.3"], "::ffff:10.1.2.3", True, id="mapped-single-address"),
        pytest.param(["::/0"], "10.1.2.3", False, id="all-ipv6-is-not-ipv4"),
        pytest.param(["0.0.0.0/0"], "10.1.2.3", True, id="all-ipv4"),
        pytest.param(["0.0.0.0/0"], "2001:db8::1", False, id="all-ipv4-is-not-ipv6"),
        pytest.param(["::/0"], "2001:db8::1", True, id="all-ipv6"),
        pytest.param(["2001:db8::1"], "2001:0db8:0000::0001", True, id="ipv6-spellings"),
        pytest.param([], "10.1.2.3", False, id="no-block"),
    ],
)
def test_blocks(blocks: list[str], value: str, inside: bool) -> None:
    assert parse_networks(blocks).contains(value) is inside


@pytest.mark.parametrize(
    ("blocks", "index", "message"),
    [
        pytest.param(
            ["10.0.0.0/8", "10.0.0.1/8"],
            1,
            '"10.0.0.1/8" has host bits set: write the network "10.0.0.0/8"'
            ' or the single address "10.0.0.1"',
            id="ipv4-host-bits",
        ),
        pytest.param(
            ["2001:db8::1/32"],
            0,
            '"2001:db8::1/32" has host bits set: write the network "2001:db8::/32"'
            ' or the single address "2001:db8::1"',
            id="ipv6-host-bits",
        ),
        pytest.param(
            ["office"],
            0,
            '"office" is not an IPv4 or IPv6 address or CIDR block'
            ' (e.g. "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")',
            id="not-an-address",
        ),
        pytest.param(
            ["10.0.0.0/8", "192.168.1.0/24", "10.0.0.0/33"],
            2,
            '"10.0.0.0/33" is not an IPv4 or IPv6 address or CIDR block'
            ' (e.g. "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")',
            id="prefix-too-long",
        ),
        pytest.param(
            [" 10.0.0.0/8"],
            0,
            '" 10.0.0.0/8" is not an IPv4 or IPv6 address or CIDR block'
            ' (e.g. "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")',
            id="leading-space",
        ),
        pytest.param(
            ["10.0.0.0/8", 167_772_160],
            1,
            "167772160 is not an IPv4 or IPv6 address or CIDR block"
            ' (e.g. "10.0.0.0/8", "2001:db8::/32", "192.0.2.7")',
            id="an-int-is-not-a-block",
        ),
    ],
)
def test_refused_blocks(blocks: list[Any], index: int, message: str) -> None:
    with pytest.raises(NetworkError, match=r"host bits|not an IPv4") as refused:
        parse_networks(blocks)
    assert str(refused.value) == message
    assert refused.value.index == index
    assert isinstance(refused.value, ValueError)


@given(
    st.ip_addresses(v=4).map(int),
    st.integers(min_value=0, max_value=32),
    st.ip_addresses(v=4),
)
def test_ipv4_agrees_with_ipaddress(
    network: int, prefix: int, address: ipaddress.IPv4Address
) -> None:
    block = ipaddress.IPv4Network((network, prefix), strict=False)
    networks = parse_networks([str(block)])
    assert networks.contains(str(address)) is (address in block)
    assert networks.contains(f"::ffff:{address}") is (address in block)


@given(
    st.ip_addresses(v=6).map(int),
    st.integers(min_value=0, max_value=128),
    st.ip_addresses(v=6)
    | st.ip_addresses(v=4).map(lambda v4: ipaddress.IPv6Address(f"::ffff:{v4}")),
)
def test_ipv6_agrees_with_ipaddress(
    network: int, prefix: int, address: ipaddress.IPv6Address
) -> None:
    block = ipaddress.IPv6Network((network, prefix), strict=False)
    networks = parse_networks([str(block)])
    # A mapped address is an IPv4 one: only a block of mapped addresses can hold it.
    mapped_block = block.subnet_of(ipaddress.IPv6Network("::ffff:0:0/96"))
    expected = address in block and (address.ipv4_mapped is None or mapped_block)
    assert networks.contains(str(address)) is expected
