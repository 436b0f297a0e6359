"""Who is on the other end of a request: the client's address and whether the browser used HTTPS.

One place for both, used by the sign-in throttle (quizapp/throttle.py through quizapp/web/routes.py)
and by every cookie the app sets (session, CSRF, device). Headers a client can forge
(`X-Forwarded-For`, `X-Forwarded-Proto`) count only when the immediate peer is listed in
QUIZAPP_TRUSTED_PROXIES (comma-separated addresses or CIDR blocks, e.g. `127.0.0.1,10.0.0.0/8`).
QUIZAPP_COOKIE_SECURE=true marks every cookie Secure whatever the request looked like.
"""

import ipaddress
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _parse_proxies(text: str) -> tuple[Network, ...]:
    nets = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"QUIZAPP_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR block"
            ) from None
    return tuple(nets)


def trusted_proxies() -> tuple[Network, ...]:
    return _parse_proxies(os.environ.get("QUIZAPP_TRUSTED_PROXIES", ""))


def _is_trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    if not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def _scope(request: Any) -> Mapping[str, Any]:
    """An ASGI scope from a scope or anything that carries one (Starlette's Request, WebSocket)."""
    return request.scope if hasattr(request, "scope") else request


def _header(scope: Mapping[str, Any], name: bytes) -> list[str]:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers") or []
    return [v.decode("latin-1") for k, v in headers if k.lower() == name]


def _peer(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_address(request: Any) -> str:
    """The client's address: the socket's peer, or, when that peer is a trusted proxy, the nearest
    address in `X-Forwarded-For` that is not itself a trusted proxy (read from the right, since a
    client can put anything at the left)."""
    scope = _scope(request)
    peer = _peer(scope)
    proxies = trusted_proxies()
    if not _is_trusted(peer, proxies):
        return peer
    hops = [h.strip() for line in _header(scope, b"x-forwarded-for") for h in line.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def served_hosts(request: Any) -> list[str]:
    """The host[:port] the browser addressed: the Host header, and `X-Forwarded-Host` when a trusted
    proxy wrote it (a proxy that passes requests on under its own Host)."""
    scope = _scope(request)
    hosts = [h.strip() for h in _header(scope, b"host")[:1] if h.strip()]
    if _is_trusted(_peer(scope), trusted_proxies()):
        forwarded = _header(scope, b"x-forwarded-host")
        if forwarded and forwarded[0].split(",")[0].strip():
            hosts.append(forwarded[0].split(",")[0].strip())
    return hosts


def cookie_secure_forced() -> bool:
    return os.environ.get("QUIZAPP_COOKIE_SECURE", "").strip().lower() in ("1", "true", "yes", "on")


def is_https(request: Any) -> bool:
    """Whether the browser reached us over HTTPS: QUIZAPP_COOKIE_SECURE=true, the request's own
    scheme, or `X-Forwarded-Proto: https` from a trusted proxy."""
    if cookie_secure_forced():
        return True
    scope = _scope(request)
    if scope.get("scheme") in ("https", "wss"):
        return True
    if not _is_trusted(_peer(scope), trusted_proxies()):
        return False
    proto = _header(scope, b"x-forwarded-proto")
    # The first value is the one the first proxy (the one the browser met) wrote.
    return bool(proto) and proto[0].split(",")[0].strip().lower() == "https"
