"""Rules for user-supplied URLs: dataset shape and outbound-request safety."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

# The one answer for a user-supplied URL the server will not or cannot call: whether its name
# does not resolve, resolves inside the network or does not answer is logged, never told, so
# nobody can map the internal network by trying names.
REFUSED_URL = "The URL is not allowed or cannot be reached."

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 ranges that carry an IPv4 address in their last 32 bits and reach that IPv4 host:
# NAT64 (RFC 6052), IPv4-compatible (deprecated, `::a.b.c.d`) and IPv4-translated (SIIT).
_EMBEDDING_IPV4 = tuple(ipaddress.ip_network(net) for net in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96"))
# Local-use NAT64 (RFC 8215) only ever translates inside one network.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
# Resolvers also read 127.1, 0x7f.0.0.1, 0177.0.0.1 and 2130706433 as IPv4 addresses.
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")

_HF_DATASET_PATH = re.compile(
    r"^/datasets/(?P<repo>[\w.\-]+/[\w.\-]+)/(?P<kind>resolve|blob|raw)/(?P<rev>[^/]+)/(?P<file>.+\.jsonl)$"
)


def huggingface_jsonl_url(url: str, base_url: str) -> str | None:
    """The canonical `resolve/` form of a Hugging Face dataset JSONL URL, or None if it is not one."""
    parts, base = urlsplit(url), urlsplit(base_url)
    if parts.scheme != base.scheme or parts.netloc.lower() != base.netloc.lower():
        return None
    found = _HF_DATASET_PATH.match(parts.path)
    if not found:
        return None
    path = f"/datasets/{found['repo']}/resolve/{found['rev']}/{found['file']}"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv6 address reaches through a translation or tunnel form, if it is one."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:  # 2002::/16 carries it in bytes 2-5
        return address.sixtofour
    if any(address in network for network in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def _is_internal(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # Site-local (fec0::/10) is deprecated but still routed inside some networks.
        if address.is_site_local or address in _LOCAL_NAT64:
            return True
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _is_internal(embedded)
    return not address.is_global or address.is_multicast


def literal_address(host: str) -> Address | None:
    """The address a URL host names without any lookup, or None for a name.

    Besides the usual forms this reads the short, octal, hex and decimal IPv4 spellings
    that resolvers accept, so `127.1` is judged as the loopback address it is.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_HOST.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def unsafe_url_reason(url: str, allow_private: bool) -> str | None:
    """Why the server must not fetch `url`, or None when it may.

    Only literal hosts are judged here; names are resolved and judged again at
    request time, so a name that later points inside the network is still refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    host = (parts.hostname or "").lower().rstrip(".")  # `localhost.` is `localhost`
    if not host:
        return "the URL has no host"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
        return REFUSED_URL
    address = literal_address(host)
    return REFUSED_URL if address is not None and _is_internal(address) else None


def ip_is_internal(text: str) -> bool:
    """True for private, loopback, link-local, site-local, reserved and multicast addresses,
    and for IPv6 forms that embed such an IPv4 address (mapped, NAT64, 6to4, compatible)."""
    return _is_internal(ipaddress.ip_address(text))
