"""Webhook rules: the signature a receiver checks, the backoff, which URLs and event types are accepted."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from app.domain.webhooks import event_type_problem, retry_delay, sign, subscribes, target_url_problem, verify

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
