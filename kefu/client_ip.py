"""The address of the client behind a request, for rate limits and logs.

Behind a reverse proxy every request comes from the proxy's address; the client's own is in
X-Forwarded-For, which each proxy extends with the address it received the request from
(nginx's `$proxy_add_x_forwarded_for`). Only the entries our own proxies added can be
believed: a client can send any X-Forwarded-For it likes, and a proxy only appends to it.
So the header is read only when the request came from a trusted proxy
(`KEFU_TRUSTED_PROXIES`), from the right, skipping addresses that are themselves trusted
proxies; the first one that is not is the client. Anything left of it was written by the
client and is ignored.
"""

import ipaddress

from django.http import HttpRequest

from kefu.middleware import peer_is_trusted_proxy

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(value: str) -> _Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: _Address) -> bool:
    return peer_is_trusted_proxy(str(address))


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless the request came from a trusted proxy, in
    which case the right-most X-Forwarded-For entry that is not a trusted proxy.

    When every entry is a trusted proxy (a health check from the proxy's own host) the
    left-most is the client. An entry that is not an address stops the walk: the last
    trusted address seen stands for the client, since what lies beyond it was not written
    by a proxy we trust.
    """
    return client_address(
        peer=request.META.get("REMOTE_ADDR", "") or "",
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
    )


def client_address(*, peer: str, forwarded_for: str) -> str:
    """`client_ip` for any connection: `peer` is the address it came from, `forwarded_for`
    its X-Forwarded-For header ("" when it has none). Websockets use it too."""
    remote = peer
    forwarded = forwarded_for
    peer_address = _parse(remote)
    if peer_address is None or not _is_trusted(peer_address):
        return remote
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    last_trusted: _Address = peer_address
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break
        if not _is_trusted(address):
            return str(address)
        last_trusted = address
    return str(last_trusted)
