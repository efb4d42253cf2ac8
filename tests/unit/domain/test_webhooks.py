"""Webhook rules: the signature a receiver checks, the backoff, which URLs, addresses and event types are accepted,
and what the delivery log says about a failure."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket

import pytest

from app.domain.webhooks import (
    ADDRESS_CATEGORIES,
    DELIVERY_ERRORS,
    TargetPolicy,
    address_category,
    address_refusal,
    delivery_error,
    event_type_problem,
    literal_address,
    parse_allowed_entry,
    redact_credentials,
    retry_delay,
    sign,
    signing_key,
    subscribes,
    target_host,
    target_url_problem,
    url_refusal,
    verify,
)

SECRET = "whsec-0123456789abcdef"
BODY = b'{"seq":1,"type":"center.recognized"}'


def test_the_signature_is_hex_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == f"sha256={expected}"
    assert sign(SECRET, "1700000000", BODY) == sign(SECRET, 1700000000, BODY)


@pytest.mark.parametrize(
    ("timestamp", "body", "signature_of", "now", "ok"),
    [
        ("1700000000", BODY, ("1700000000", BODY), 1700000000, True),
        ("1700000000", BODY, ("1700000000", BODY), 1700000300, True),
        ("1700000000", BODY, ("1700000000", BODY), 1700000301, False),  # too old: a replay
        ("1700000000", BODY + b" ", ("1700000000", BODY), 1700000000, False),  # body changed
        ("1700000001", BODY, ("1700000000", BODY), 1700000000, False),  # timestamp changed
        ("soon", BODY, ("soon", BODY), 1700000000, False),
    ],
)
def test_a_receiver_verifies_signature_and_freshness(
    timestamp: str, body: bytes, signature_of: tuple[str, bytes], now: int, ok: bool
) -> None:
    assert verify(SECRET, timestamp, body, sign(SECRET, *signature_of), now=now) is ok


def test_another_secret_does_not_verify() -> None:
    assert not verify("another-secret-0123456789", "1", BODY, sign(SECRET, "1", BODY), now=1)


@pytest.mark.parametrize(
    ("attempt", "seconds"), [(1, 5.0), (2, 10.0), (3, 20.0), (8, 640.0), (10, 2560.0), (11, 3600.0), (500, 3600.0)]
)
def test_the_wait_after_a_failed_attempt_doubles_up_to_the_cap(attempt: int, seconds: float) -> None:
    assert retry_delay(attempt, base_seconds=5, max_seconds=3600) == seconds


@pytest.mark.parametrize(
    ("types", "event_type", "taken"),
    [
        ([], "center.recognized", True),
        (["center.recognized"], "center.recognized", True),
        (["center"], "center.x", False),
    ],
)
def test_an_empty_type_list_takes_every_event(types: list[str], event_type: str, taken: bool) -> None:
    assert subscribes(types, event_type) is taken


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://example.org/hooks/tic?token=x", True),
        ("http://127.0.0.1:8080/", True),
        ("HTTPS://EXAMPLE.ORG", True),
        ("ftp://example.org/", False),
        ("javascript:alert(1)", False),
        ("/relative/path", False),
        ("https:///no-host", False),
        ("https://example.org/a#fragment", False),
        ("https://example.org:99999/", False),
        ("https://exa mple.org/", False),
        (" https://example.org/", False),
    ],
)
def test_only_absolute_http_urls_receive_deliveries(url: str, accepted: bool) -> None:
    assert (target_url_problem(url) is None) is accepted


@pytest.mark.parametrize(
    ("event_type", "accepted"),
    [
        ("center.recognized", True),
        ("application.panel_formed", True),
        ("webhook", True),
        ("", False),
        ("Center.Recognized", False),
        ("center..recognized", False),
        ("center.*", False),
        (" center.recognized", False),
    ],
)
def test_event_types_are_dotted_lowercase_names(event_type: str, accepted: bool) -> None:
    assert (event_type_problem(event_type) is None) is accepted


# --- the target policy ------------------------------------------------------------------------------------------------

OPEN = TargetPolicy()
PRODUCTION = TargetPolicy(https_only=True)


@pytest.mark.parametrize(
    ("url", "policy", "kind"),
    [
        ("https://example.org/hooks?token=x", PRODUCTION, None),
        ("http://example.org/hooks", OPEN, None),
        ("http://example.org/hooks", PRODUCTION, "url_https_required"),
        ("HTTP://example.org/", PRODUCTION, "url_https_required"),
        ("https://alice:s3cr3t@example.org/", OPEN, "url_credentials"),
        ("https://alice@example.org/", OPEN, "url_credentials"),
        ("https://:@example.org/", OPEN, "url_credentials"),
        ("https://example.org/#", OPEN, "url_fragment"),
        ("https://example.org/a#b", OPEN, "url_fragment"),
        ("ftp://example.org/", OPEN, "url_scheme"),
        ("https:///no-host", OPEN, "url_malformed"),
        ("https://example.org:99999/", OPEN, "url_malformed"),
        (" https://example.org/", OPEN, "url_malformed"),
    ],
)
def test_a_url_is_refused_by_its_spelling_with_a_stable_type(url: str, policy: TargetPolicy, kind: str | None) -> None:
    refusal = url_refusal(url, policy)
    assert (refusal.type if refusal else None) == kind


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.org/a b", "the URL must not contain whitespace"),
        ("https://example.org/\t", "the URL must not contain whitespace"),
        ("https://example.org:99999/", "the URL is malformed"),
        ("mailto:someone@example.org", "the URL must use http or https"),
        ("https:///no-host", "the URL must name a host"),
        ("https://alice@example.org/", "the URL must not carry credentials (user:password@); sign with the secret"),
        ("https://example.org/#", "the URL must not have a fragment"),
        ("http://example.org/", "the URL must use https"),
    ],
)
def test_a_refused_url_says_why_in_a_sentence(url: str, message: str) -> None:
    refusal = url_refusal(url, PRODUCTION)
    assert refusal is not None
    assert refusal.message == message
    assert target_url_problem(url) == (None if message == "the URL must use https" else message)


def test_without_a_policy_plain_http_is_accepted() -> None:
    assert url_refusal("http://example.org/hooks") is None
    assert url_refusal("Https://example.org/hooks", PRODUCTION) is None


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("https://example.org/x", "example.org", 443),
        ("http://example.org/x", "example.org", 80),
        ("http://[::1]:6379/", "::1", 6379),
        ("http://2130706433:8000/", "2130706433", 8000),
    ],
)
def test_the_host_and_port_to_check_are_the_ones_the_client_connects_to(url: str, host: str, port: int) -> None:
    assert target_host(url) == (host, port)


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0X7F000001",
        "0177.0.0.1",
        "127.1",
        "127.0.1",
        "0x7f.1",
        "017700000001",
        "0",
        "4294967295",
        "10.0.0.1",
        "0x7f.0x0.0x0.0x1",
        "1.2.3.4",
    ],
)
def test_numeric_ipv4_forms_are_read_as_the_c_library_reads_them(host: str) -> None:
    assert literal_address(host) == ipaddress.IPv4Address(socket.inet_aton(host))


@pytest.mark.parametrize(
    "host", ["example.org", "1.2.3.4.5", "08.0.0.1", "09", "0x", "256.1", "4294967296", "1..1", ".1", "1.", "+1", "0xg"]
)
def test_names_and_malformed_numbers_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None
    with pytest.raises(OSError, match="illegal IP address"):  # the C library does not read them as addresses either
        socket.inet_aton(host)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("fe80::1%eth0", "link_local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("fc00::1", "private"),
        ("0.1.2.3", "private"),
        ("192.0.2.1", "private"),  # documentation (TEST-NET-1); Python files it under private
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link_local"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("::8.8.8.8", "reserved"),  # deprecated: never passes
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link_local"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", "private"),
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_every_address_that_is_not_public_is_named_for_what_it_is(address: str, category: str) -> None:
    assert category in ADDRESS_CATEGORIES
    assert address_category(ipaddress.ip_address(address)) == category


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.215.14",
        "100.63.255.255",
        "100.128.0.0",
        "172.32.0.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert address_category(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("addresses", "kind"),
    [
        (["93.184.215.14"], None),
        (["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"], None),
        (["93.184.215.14", "10.0.0.7"], "url_address_refused"),  # one private answer is enough
        (["2606:4700::1", "::1"], "url_address_refused"),
        ([], "url_host_unresolvable"),
        (["not-an-address"], "url_address_refused"),
    ],
)
def test_a_host_is_refused_when_any_of_its_addresses_is_not_public(addresses: list[str], kind: str | None) -> None:
    refusal = address_refusal("hooks.example.org", addresses, OPEN)
    assert (refusal.type if refusal else None) == kind


def test_the_allow_list_admits_exactly_its_hosts_and_networks() -> None:
    policy = TargetPolicy.build(https_only=True, allowed=["Hooks.Internal.", "10.20.0.0/16", "127.0.0.1", "::1"])
    assert policy.allowed_hosts == frozenset({"hooks.internal"})
    assert address_refusal("hooks.internal", ["192.168.9.9", "10.99.0.1"], policy) is None  # the name is trusted
    assert address_refusal("HOOKS.INTERNAL.", ["127.0.0.5"], policy) is None
    assert address_refusal("other.internal", ["10.20.3.4"], policy) is None  # inside the network
    assert address_refusal("other.internal", ["::ffff:10.20.3.4"], policy) is None  # the same address, mapped
    assert address_refusal("127.0.0.1", ["127.0.0.1"], policy) is None
    assert address_refusal("::1", ["::1"], policy) is None
    for host, addresses in [("other.internal", ["10.21.0.1"]), ("127.0.0.2", ["127.0.0.2"]), ("x", ["169.254.1.1"])]:
        refusal = address_refusal(host, addresses, policy)
        assert refusal is not None
        assert refusal.type == "url_address_refused"


@pytest.mark.parametrize(
    "entry", ["", "*.internal", "10.0.0.1/8", "10.0.0.0/33", "0.0.0.0/0", "::/0", "host_name", "a..b"]
)
def test_an_allow_list_entry_must_be_a_host_an_address_or_a_network(entry: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_allowed_entry(entry)


def test_a_refusal_names_the_kind_of_address_but_not_where_it_points() -> None:
    refusal = address_refusal("db.internal", ["10.1.2.3"], OPEN)
    assert refusal is not None
    assert "private" in refusal.message
    assert "10.1.2.3" not in refusal.message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:s3cr3t@example.org:8443/h?x=1", "https://example.org:8443/h?x=1"),
        ("https://alice@example.org/h", "https://example.org/h"),
        ("https://example.org/h?mail=a@b", "https://example.org/h?mail=a@b"),
    ],
)
def test_credentials_in_a_stored_url_are_never_shown(url: str, shown: str) -> None:
    assert redact_credentials(url) == shown


# --- signing keys and delivery errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["short-secret-0123", "x" * 64, "x" * 65, "长" * 200])
def test_the_stored_signing_key_signs_exactly_as_the_secret_does(secret: str) -> None:
    key = signing_key(secret)
    assert len(key) <= 64
    expected = hmac.new(secret.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(key, 1700000000, BODY) == sign(secret, 1700000000, BODY) == f"sha256={expected}"


@pytest.mark.parametrize(
    ("stored", "category"),
    [
        (None, None),
        ("connect_error", "connect_error"),
        ("HTTP 500", "http_status"),
        ("HTTP 404", "http_status"),
        ("HTTP 302", "redirect_refused"),
        ("ConnectError: [Errno 111] Connection refused", "connect_error"),
        ("ConnectError: [Errno -2] Name or service not known", "dns_error"),
        ("ConnectError: [Errno -3] Temporary failure in name resolution", "dns_error"),
        ("ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls_error"),
        ("ConnectTimeout", "timeout"),
        ("ReadTimeout: timed out", "timeout"),
        ("RemoteProtocolError: illegal status line: bytearray(b'HTTP/1.0 403')", "protocol_error"),
        ("ReadError", "connect_error"),
        ("InvalidURL: Invalid port", "refused_url"),
        ("UnsupportedProtocol: Request URL is missing a scheme", "refused_url"),
        ("ValueError: something", "error"),
    ],
)
def test_an_error_stored_as_text_before_categories_reads_as_its_category(
    stored: str | None, category: str | None
) -> None:
    assert delivery_error(stored) == category
    assert category is None or category in DELIVERY_ERRORS
