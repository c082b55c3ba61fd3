"""What the monitor's server checks of a request before it looks at what is asked.

- Host: only the names the page is served under (the listen address, --hostname names, and
  localhost's names when listening on loopback or on every interface), so a DNS-rebinding page
  of another site, whose requests carry its own name, gets nothing.
- A POST: from the page itself (its Origin, else its Referer, on this Host), as JSON: a form of
  another site can send neither the header nor the type without the browser asking first.
- A token (the page's CSRF token) compared in constant time.
- A JSON body: nesting past what json.loads can take is a refusal, not a traceback.
"""

import hmac
import ipaddress
import json
import socket
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def served_names(listen_host: str, hostnames: tuple = ()) -> frozenset[str]:
    """The Host names accepted for a server listening on listen_host (lower case, no port)."""
    names = {name.lower().strip("[]") for name in hostnames}
    if is_wildcard(listen_host):
        names |= {*LOOPBACK_NAMES, socket.gethostname().lower()}
    else:
        names.add(listen_host.lower())
        if is_loopback(listen_host):
            names |= set(LOOPBACK_NAMES)
    return frozenset(names)


def is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(header: str | None) -> str | None:
    """The name of a Host header ("example.org:8080" → "example.org", "[::1]:80" → "::1")."""
    if not header:
        return None
    try:
        return urlsplit("//" + header.strip()).hostname
    except ValueError:
        return None


def same_origin(headers, host: str) -> bool:
    """Whether a POST comes from a page of this server (Host already checked)."""
    origin = headers.get("Origin")
    if origin is None:
        origin = headers.get("Referer")
        if origin is None:
            return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme == "http" and parts.netloc.lower() == host.lower()


def tokens_equal(given: str | None, expected: str) -> bool:
    """A token compared in constant time (none given is unequal)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def is_json(headers) -> bool:
    return headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/json"


def parse_json(body: bytes) -> object:
    """The body's JSON ({} when empty); ValueError for anything else, nesting deeper than the
    parser's recursion limit included."""
    try:
        return json.loads(body or b"{}")
    except RecursionError:
        raise ValueError("nested too deep") from None
