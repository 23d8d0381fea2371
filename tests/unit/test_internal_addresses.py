"""Which addresses count as inside the network, in every spelling that reaches one."""

from __future__ import annotations

import logging

import pytest

from shared.domain.urls import REFUSED_URL, ip_is_internal, unsafe_url_reason
from shared.errors import InvalidInput
from shared.services.outbound import DatasetUnavailable, check_outbound_url

# IPv6 spellings of internal IPv4 hosts: each reaches 10.0.0.1 or 127.0.0.1.
IPV6_FORMS_OF_INTERNAL_IPV4 = {
    "IPv4-mapped": "::ffff:10.0.0.1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "NAT64": "64:ff9b::a00:1",
    "NAT64 of loopback": "64:ff9b::7f00:1",
    "6to4": "2002:a00:1::1",
    "6to4 of loopback": "2002:7f00:1::",
    "IPv4-compatible": "::10.0.0.1",
    "IPv4-compatible loopback": "::127.0.0.1",
    "IPv4-translated": "::ffff:0:10.0.0.1",
}
# The same forms around a public IPv4 address reach the public host, and stay allowed.
IPV6_FORMS_OF_PUBLIC_IPV4 = ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("form", IPV6_FORMS_OF_INTERNAL_IPV4)
def test_an_ipv6_address_embedding_an_internal_ipv4_address_is_internal(form):
    assert ip_is_internal(IPV6_FORMS_OF_INTERNAL_IPV4[form])


@pytest.mark.parametrize("address", ["fec0::1", "feff:ffff::1", "64:ff9b:1::808:808"])
def test_site_local_and_local_use_nat64_addresses_are_always_internal(address):
    assert ip_is_internal(address)


@pytest.mark.parametrize("address", IPV6_FORMS_OF_PUBLIC_IPV4 + ["2606:4700::1111", "93.184.215.14"])
def test_an_address_that_reaches_a_public_host_is_not_internal(address):
    assert not ip_is_internal(address)


@pytest.mark.parametrize("host", [f"[{address}]" for address in IPV6_FORMS_OF_INTERNAL_IPV4.values()]
                         + ["[fec0::1]", "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "localhost."])
def test_a_url_whose_literal_host_is_internal_is_refused_before_any_lookup(host):
    assert unsafe_url_reason(f"http://{host}:8080/v1", allow_private=False) == REFUSED_URL


async def test_unresolvable_internal_and_literal_urls_are_refused_with_one_message_and_logged_precisely(caplog):
    caplog.set_level(logging.INFO, logger="shared.services.outbound")

    async def resolver(host: str) -> list[str]:
        if host == "nowhere.example":
            raise OSError("Name or service not known")
        return {"models.corp.example": ["10.0.0.5"], "nat64.corp.example": ["64:ff9b::a00:5"]}[host]

    messages = []
    for url in ("https://nowhere.example/v1", "https://models.corp.example/v1", "https://nat64.corp.example/v1",
                "http://[64:ff9b::a00:1]/v1"):
        with pytest.raises((InvalidInput, DatasetUnavailable)) as refused:
            await check_outbound_url(url, False, resolver)
        messages.append(getattr(refused.value, "message", str(refused.value)))
    assert messages == [REFUSED_URL] * 4
    assert [record.getMessage() for record in caplog.records] == [
        "refused outbound URL on nowhere.example: cannot resolve it (Name or service not known)",
        "refused outbound URL on models.corp.example: it resolves inside the network (10.0.0.5)",
        "refused outbound URL on nat64.corp.example: it resolves inside the network (64:ff9b::a00:5)",
        "refused outbound URL on 64:ff9b::a00:1: the host itself is inside the network"]
