"""Rules for user-supplied URLs: dataset shape and outbound-request safety."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

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


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def unsafe_url_reason(url: str, allow_private: bool) -> str | None:
    """Why the server must not fetch `url`, or None when it may.

    Only literal hosts are judged here; names are resolved and judged again at
    request time, so a name that later points inside the network is still refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    host = (parts.hostname or "").lower()
    if not host:
        return "the URL has no host"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
        return "URLs that point inside the network are not allowed"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return "URLs that point inside the network are not allowed" if _is_internal(address) else None


def ip_is_internal(text: str) -> bool:
    """True for private, loopback, link-local, reserved and multicast addresses."""
    return _is_internal(ipaddress.ip_address(text))
