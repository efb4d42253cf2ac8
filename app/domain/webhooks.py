"""Webhooks: which feed events a subscription takes, how a delivery is signed, when a failed one is retried, and
which targets the service may send to at all.

The signature scheme follows the common "timestamp.body" HMAC pattern: the receiver recomputes
`HMAC-SHA256(secret, f"{X-TIC-Timestamp}.{raw body}")`, compares it in constant time with `X-TIC-Signature`
(`sha256=<hex>`) and refuses timestamps too far from its clock, so a captured request cannot be replayed later.

The target policy keeps the worker from being pointed at the service's own network (SSRF): a URL names a host, the
host's addresses decide. Resolving is I/O and happens in the service and the worker; deciding over the addresses is
here, with `ipaddress`, so registration and every delivery judge the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

SIGNATURE_HEADER = "X-TIC-Signature"
TIMESTAMP_HEADER = "X-TIC-Timestamp"
EVENT_ID_HEADER = "X-TIC-Event-Id"
EVENT_TYPE_HEADER = "X-TIC-Event-Type"

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "cancelled")
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)


# HMAC-SHA256 hashes a key longer than the hash's block size before use (RFC 2104 §2).
HMAC_BLOCK_BYTES = 64


def signing_key(secret: str) -> bytes:
    """The key HMAC-SHA256 actually uses for `secret`: its UTF-8 bytes, or their SHA-256 when longer than the block
    (RFC 2104 §2). Signatures with either are identical, so the service may keep the short form: at most 64 bytes,
    whatever secret a receiver chose."""
    raw = secret.encode("utf-8")
    return raw if len(raw) <= HMAC_BLOCK_BYTES else hashlib.sha256(raw).digest()


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}` keyed with the webhook's secret (or its signing key)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_seconds: float = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within `tolerance_seconds` of `now`."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance_seconds
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def subscribes(event_types: Sequence[str], event_type: str) -> bool:
    """An empty list takes every event type."""
    return not event_types or event_type in event_types


def retry_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): base, 2·base, 4·base, ... never above the cap."""
    return float(min(max_seconds, base_seconds * 2 ** min(attempt - 1, 62)))


# --- the target policy (SSRF) --------------------------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Stable `type`s of a refused URL (the `errors[].type` of the 422 on `url`).
URL_MALFORMED = "url_malformed"
URL_SCHEME = "url_scheme"
URL_HTTPS_REQUIRED = "url_https_required"
URL_CREDENTIALS = "url_credentials"
URL_FRAGMENT = "url_fragment"
URL_HOST_UNRESOLVABLE = "url_host_unresolvable"
URL_ADDRESS_REFUSED = "url_address_refused"

# Why an address is not a public one, most specific first (Python's `is_private` also covers loopback, link-local...).
ADDRESS_CATEGORIES = (
    "unspecified",
    "loopback",
    "link_local",
    "multicast",
    "shared",  # 100.64.0.0/10, carrier-grade NAT (RFC 6598)
    "reserved",
    "private",
    "non_global",  # anything else IANA does not mark globally reachable: documentation, benchmarking, ...
)
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the low 32 bits are the IPv4 destination
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated "::a.b.c.d" (RFC 4291 §2.5.5.1)
_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMERIC_PART = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a target is refused: a stable `type` and a sentence for people."""

    type: str
    message: str


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Where deliveries may go. `https_only` in production; the allow-list names the province's own receivers,
    whose private addresses are then accepted: exact host names (a name's addresses are trusted as its DNS gives
    them) and IP networks (any host resolving inside them)."""

    https_only: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def build(cls, *, https_only: bool, allowed: Iterable[str] = ()) -> TargetPolicy:
        """From allow-list entries such as `hooks.internal.example`, `10.20.0.5` or `10.20.0.0/16`; ValueError on an
        entry that is none of these."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allowed:
            value = parse_allowed_entry(entry)
            if isinstance(value, str):
                hosts.add(value)
            else:
                networks.append(value)
        return cls(https_only=https_only, allowed_hosts=frozenset(hosts), allowed_networks=tuple(networks))

    def admits_host(self, host: str) -> bool:
        return normalise_host(host) in self.allowed_hosts

    def admits_address(self, address: IPAddress) -> bool:
        candidates = [address, *([embedded] if (embedded := embedded_ipv4(address)) else [])]
        return any(
            a in network for a in candidates for network in self.allowed_networks if a.version == network.version
        )


def normalise_host(host: str) -> str:
    """Host names compare case-insensitively and without the root's trailing dot."""
    return host.strip().lower().rstrip(".")


def parse_allowed_entry(entry: str) -> str | IPNetwork:
    """One allow-list entry as a normalised host name or a network; ValueError when it is neither."""
    text = entry.strip()
    if not text:
        raise ValueError("an empty allow-list entry")
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not a network such as 10.20.0.0/16 ({exc})") from None
        if network.prefixlen == 0:
            raise ValueError(f"{entry!r} would admit every address")
        return network
    address = literal_address(text.strip("[]"))
    if address is not None:
        return ipaddress.ip_network(address)
    name = normalise_host(text)
    if not all(_HOSTNAME_LABEL.match(label) for label in name.split(".")):
        raise ValueError(f"{entry!r} is not a host name, an IP address or a network (no wildcards)")
    return name


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells, or None for a name. Besides the usual forms this reads every numeric IPv4 form the
    C library's inet_aton accepts and the resolver turns into an address: `2130706433`, `0x7f000001`, `0177.0.0.1`,
    `127.1` all spell 127.0.0.1."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    numbers = [
        int(part, 16) if part[:2].lower() == "0x" else int(part, 8) if part[0] == "0" else int(part) for part in parts
    ]
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 destination an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d),
    6to4 (2002:aabb:ccdd::), IPv4-compatible (::a.b.c.d)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_category(address: IPAddress) -> str | None:
    """Why `address` is not a public one (one of ADDRESS_CATEGORIES), or None when it is. An IPv6 address that
    carries an IPv4 destination is judged by that destination; the deprecated IPv4-compatible form never passes."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    embedded = embedded_ipv4(address)
    if embedded is not None:
        inner = address_category(embedded)
        if inner is None and address in _IPV4_COMPATIBLE:
            return "reserved"
        return inner
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared"
    if address.is_reserved:
        return "reserved"
    if address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local):
        return "private"
    if not address.is_global:
        return "non_global"
    return None


def url_refusal(url: str, policy: TargetPolicy | None = None) -> Refusal | None:
    """Why `url` cannot receive deliveries by its spelling alone, or None. Only absolute http(s) URLs (https when the
    policy says so), naming a host, with no credentials (they would be sent as Basic auth and shown back by every
    read) and no fragment."""
    if url != url.strip() or any(c.isspace() for c in url):
        return Refusal(URL_MALFORMED, "the URL must not contain whitespace")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return Refusal(URL_MALFORMED, "the URL is malformed")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return Refusal(URL_SCHEME, "the URL must use http or https")
    if not parts.hostname:
        return Refusal(URL_MALFORMED, "the URL must name a host")
    if "@" in parts.netloc:
        return Refusal(URL_CREDENTIALS, "the URL must not carry credentials (user:password@); sign with the secret")
    if parts.fragment or url.endswith("#"):
        return Refusal(URL_FRAGMENT, "the URL must not have a fragment")
    if policy is not None and policy.https_only and scheme != "https":
        return Refusal(URL_HTTPS_REQUIRED, "the URL must use https")
    return None


def target_url_problem(url: str) -> str | None:
    """Why `url` cannot receive deliveries by its spelling alone (see url_refusal), or None."""
    refusal = url_refusal(url)
    return None if refusal is None else refusal.message


def target_host(url: str) -> tuple[str, int]:
    """The host to resolve and the port to connect to, for a URL url_refusal accepts."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    return parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80)


def address_refusal(host: str, addresses: Sequence[str], policy: TargetPolicy) -> Refusal | None:
    """Whether deliveries to `host` may go to `addresses` (what it resolved to, in any form the resolver gives):
    refused when there are none, or when ANY of them is not public and the allow-list admits neither the host nor
    the address. One private answer is enough: the client could connect to that one."""
    if not addresses:
        return Refusal(URL_HOST_UNRESOLVABLE, f"the host {host!r} does not resolve")
    if policy.admits_host(host):
        return None
    for text in addresses:
        address = literal_address(text)
        if address is None:
            return Refusal(URL_ADDRESS_REFUSED, f"the host {host!r} resolves to something that is not an address")
        if policy.admits_address(address):
            continue
        category = address_category(address)
        if category is not None:
            what = f"{host!r} is" if literal_address(host) is not None else f"the host {host!r} resolves to"
            return Refusal(
                URL_ADDRESS_REFUSED,
                f"{what} {_CATEGORY_WORDS[category]}; webhooks go to public addresses only (or to the receivers the "
                "operator allow-lists)",
            )
    return None


_CATEGORY_WORDS = {
    "unspecified": "the unspecified address",
    "loopback": "a loopback address",
    "link_local": "a link-local address",
    "multicast": "a multicast address",
    "shared": "a shared (carrier-grade NAT) address",
    "reserved": "a reserved address",
    "private": "a private address",
    "non_global": "an address that is not globally reachable",
}


def redact_credentials(url: str) -> str:
    """The URL without `user:password@` (rows from before credentials were refused must not show them)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# --- delivery errors -----------------------------------------------------------------------------------------------

# What the delivery log says about a failed attempt: a fixed set, never an exception's text (which would tell a
# caller what answers on the service's network).
DELIVERY_ERRORS = (
    "refused_url",  # the stored URL no longer passes the policy (credentials, http in production, ...)
    "refused_address",  # the host resolves to an address the policy refuses
    "dns_error",  # the host does not resolve
    "connect_error",
    "timeout",
    "tls_error",
    "protocol_error",  # the peer does not speak HTTP
    "redirect_refused",  # a 3xx answer: redirects are not followed
    "http_status",  # any other non-2xx answer; `last_status_code` says which
    "secret_unreadable",  # the stored secret cannot be decrypted with the configured keys
    "error",
)

_LEGACY_DNS = ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo")
_LEGACY_CONNECT = ("ConnectError", "ConnectionError", "ConnectionRefusedError", "OSError", "ReadError", "WriteError")


def delivery_error(stored: str | None) -> str | None:
    """The category of a stored `last_error`. Rows written before categories held `HTTP 500` or the exception's
    text; they are read as the category that text falls in, so no raw text is ever shown."""
    if stored is None or stored in DELIVERY_ERRORS:
        return stored
    if stored.startswith("HTTP "):
        return "redirect_refused" if stored[5:6] == "3" else "http_status"
    name, _, text = stored.partition(":")
    lowered = text.lower()
    if "Timeout" in name:
        return "timeout"
    if name in ("InvalidURL", "UnsupportedProtocol"):
        return "refused_url"
    if "ProtocolError" in name:
        return "protocol_error"
    if any(marker in lowered for marker in _LEGACY_DNS):
        return "dns_error"
    if "ssl" in lowered or "certificate" in lowered:
        return "tls_error"
    if name in _LEGACY_CONNECT:
        return "connect_error"
    return "error"


def event_type_problem(event_type: str) -> str | None:
    """Event types are dotted lowercase names such as `center.recognized`."""
    if not _EVENT_TYPE.match(event_type):
        return "an event type is a dotted lowercase name such as 'center.recognized'"
    return None
