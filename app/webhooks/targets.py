"""Where a webhook may be sent: http(s) URLs whose addresses are public, unless configuration allows more.

A URL is checked when an admin saves it and again before every delivery, after resolving its
host: every address the name resolves to must be allowed, and the connection then goes to the
checked address (app/webhooks/http.py), so a DNS answer that changes in between (rebinding)
cannot point a delivery at the internal network.

Private, loopback, link-local, multicast, reserved, unspecified and other non-global addresses
(IPv4 and IPv6, an IPv4-mapped or NAT64 IPv6 address judged by its IPv4 part) are refused unless
WEBHOOK_ALLOW_PRIVATE=1, or WEBHOOK_ALLOWED_HOSTS names the host, the address or its network.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from app.models import WEBHOOK_URL_MAX

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why (and names no secret)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to name in Host and SNI (`host`)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL, or TargetRefused."""
    url = (url or "").strip()
    if not url:
        raise TargetRefused("a URL is required")
    if len(url) > WEBHOOK_URL_MAX:
        raise TargetRefused(f"at most {WEBHOOK_URL_MAX} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise TargetRefused("no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("only http:// and https:// URLs receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("no user name or password in the URL (the signature authenticates us)")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise TargetRefused("the URL names no host")
    try:
        host = host.encode("idna").decode("ascii")  # an international name, as DNS and Host spell it
    except UnicodeError:
        raise TargetRefused(f"the host '{host}' is not a valid name") from None
    if parts.fragment:
        raise TargetRefused("no #fragment: it is never sent")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _allow_list() -> tuple[set[str], list]:
    names, networks = set(), []
    for item in current_app.config.get("WEBHOOK_ALLOWED_HOSTS", "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return names, networks


def refusal(address: Address) -> str | None:
    """Why this address may not receive webhooks (its kind), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or _nat64(address) or address.sixtofour
        if embedded is not None:
            return refusal(embedded)
        if address.teredo is not None:
            return "a Teredo tunnel address"
    for kind, test in (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a reserved", address.is_reserved),
        ("a private", address.is_private),
    ):
        if test:
            return f"{kind} address"
    if not address.is_global:
        return "a non-public address"
    return None


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int) -> list[Address]:
    """The addresses `host` resolves to (an address literal is itself), or TargetRefused."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"the host '{host}' does not resolve ({exc})") from None
    found = []
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetRefused(f"the host '{host}' does not resolve")
    return found


def check_url(url: str) -> Target:
    """Parse `url`, resolve its host and check every address; the Target connects to the first.

    Raises:
        TargetRefused: not an http(s) URL, an unresolvable host, or a refused address.
    """
    scheme, host, port, path = parse_url(url)
    addresses = resolve(host, port)
    config = current_app.config
    if not config.get("WEBHOOK_ALLOW_PRIVATE"):
        names, networks = _allow_list()
        if host not in names:
            for address in addresses:
                why = refusal(address)
                if why and not any(address in network for network in networks):
                    shown = host if str(address) == host.strip("[]") else f"{host} ({address})"
                    raise TargetRefused(
                        f"{shown} is {why}: webhooks go to public addresses only "
                        "(WEBHOOK_ALLOW_PRIVATE or WEBHOOK_ALLOWED_HOSTS allow others)"
                    )
    return Target(scheme, host, port, path, str(addresses[0]))
