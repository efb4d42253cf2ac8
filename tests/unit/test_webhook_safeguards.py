"""The webhook safeguards with I/O: secrets sealed at rest under rotatable keys, hosts resolved and checked, and
failed requests reported as categories."""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl
from dataclasses import dataclass, field

import httpcore
import httpx
import pytest
from cryptography.fernet import Fernet

from app.db.models import WebhookRecord
from app.domain.errors import InvalidInput
from app.domain.webhooks import DELIVERY_ERRORS, Refusal, TargetPolicy, sign, signing_key
from app.services import webhook_targets
from app.services.secret_box import PREFIX, SecretBox, SecretUnreadable
from app.services.webhook_targets import TargetRefused, attempt_error, check_target, checked_addresses

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SECRET = "whsec-0123456789abcdef"


# --- secrets at rest -------------------------------------------------------------------------------------------------


def test_a_sealed_secret_is_prefixed_ciphertext_that_opens_to_its_signing_key() -> None:
    box = SecretBox([NEW])
    stored = box.seal(signing_key(SECRET))
    assert stored.startswith(PREFIX)
    assert SECRET not in stored
    assert box.open(stored) == SECRET.encode()
    assert box.seal(signing_key(SECRET)) != stored  # a fresh IV every time


@pytest.mark.parametrize("secret", ["x" * 16, "x" * 64, "x" * 200, "长" * 200, "🔑" * 200])
def test_every_secret_the_contract_accepts_fits_the_column_once_sealed(secret: str) -> None:
    column = WebhookRecord.__table__.c.secret.type.length
    stored = SecretBox([NEW]).seal(signing_key(secret))
    assert len(stored) <= column
    assert sign(SecretBox([NEW]).open(stored), 1, b"{}") == sign(secret, 1, b"{}")


def test_rotation_encrypts_with_the_first_key_and_decrypts_with_any() -> None:
    old_value = SecretBox([OLD]).seal(b"k" * 32)
    rotating = SecretBox([NEW, OLD])
    assert rotating.open(old_value) == b"k" * 32
    assert not rotating.is_current(old_value)
    resealed = rotating.reseal(old_value)
    assert rotating.is_current(resealed)
    assert rotating.reseal(resealed) == resealed
    assert SecretBox([NEW]).open(resealed) == b"k" * 32
    with pytest.raises(SecretUnreadable):
        SecretBox([NEW]).open(old_value)


def test_a_secret_stored_in_clear_before_encryption_is_read_as_it_is_until_resealed() -> None:
    box = SecretBox([NEW])
    assert box.open(SECRET) == SECRET.encode()
    assert box.open("长" * 100) == signing_key("长" * 100)
    assert not box.is_current(SECRET)
    assert box.open(box.reseal(SECRET)) == SECRET.encode()


@pytest.mark.parametrize("stored", [PREFIX + "not-a-token", PREFIX + "ünïcode", PREFIX])
def test_a_value_that_no_key_opens_is_unreadable(stored: str) -> None:
    with pytest.raises(SecretUnreadable):
        SecretBox([NEW, OLD]).open(stored)
    with pytest.raises(SecretUnreadable):
        SecretBox([NEW]).reseal(stored)


def test_a_box_needs_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        SecretBox([])


# --- resolving and checking targets ----------------------------------------------------------------------------------


@dataclass
class FakeDns:
    table: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(webhook_targets, "resolve_host", fake.resolve)
    return fake


async def test_a_numeric_host_is_checked_as_the_address_it_spells_without_asking_dns(dns: FakeDns) -> None:
    policy = TargetPolicy.build(https_only=False, allowed=["127.0.0.1"])
    assert await checked_addresses("2130706433", 80, policy, resolve_seconds=1) == ["127.0.0.1"]
    assert await checked_addresses("0x7f.1", 80, policy, resolve_seconds=1) == ["127.0.0.1"]
    with pytest.raises(TargetRefused):
        await checked_addresses("127.1", 80, TargetPolicy(), resolve_seconds=1)
    assert dns.asked == []


async def test_a_name_is_checked_against_every_address_it_resolves_to(dns: FakeDns) -> None:
    dns.table["ok.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    dns.table["mixed.example"] = ["93.184.215.14", "192.168.0.10"]
    assert await checked_addresses("ok.example", 443, TargetPolicy(), resolve_seconds=1) == dns.table["ok.example"]
    with pytest.raises(TargetRefused) as refused:
        await checked_addresses("mixed.example", 443, TargetPolicy(), resolve_seconds=1)
    assert refused.value.refusal.type == "url_address_refused"
    with pytest.raises(TargetRefused) as unknown:
        await checked_addresses("nowhere.example", 443, TargetPolicy(), resolve_seconds=1)
    assert unknown.value.refusal.type == "url_host_unresolvable"


async def test_registration_refuses_on_url_with_the_refusals_type(dns: FakeDns) -> None:
    dns.table["ok.example"] = ["93.184.215.14"]
    await check_target("https://ok.example/hook", TargetPolicy(https_only=True), resolve_seconds=1)
    with pytest.raises(InvalidInput) as refused:
        await check_target("http://ok.example/hook", TargetPolicy(https_only=True), resolve_seconds=1)
    assert (refused.value.loc, refused.value.type) == (("body", "url"), "url_https_required")


async def test_a_resolver_that_hangs_counts_as_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return []

    monkeypatch.setattr(webhook_targets, "resolve_host", hang)
    with pytest.raises(TargetRefused) as refused:
        await checked_addresses("slow.example", 443, TargetPolicy(), resolve_seconds=0.05)
    assert refused.value.refusal.type == "url_host_unresolvable"


async def test_the_system_resolver_answers_addresses() -> None:
    assert "127.0.0.1" in await webhook_targets.resolve_host("localhost", 80)


# --- failures as categories ------------------------------------------------------------------------------------------


def caused(*chain: BaseException) -> BaseException:
    """chain[0] raised from chain[1] raised from ... (as httpx raises from httpcore, from the socket or ssl error)."""
    for outer, inner in itertools.pairwise(chain):
        outer.__cause__ = inner
    return chain[0]


@pytest.mark.parametrize(
    ("exc", "category"),
    [
        (TargetRefused(Refusal("url_address_refused", "no")), "refused_address"),
        (TargetRefused(Refusal("url_host_unresolvable", "no")), "dns_error"),
        (
            caused(
                httpx.ConnectError("x"),
                httpcore.ConnectError("x"),
                ssl.SSLCertVerificationError(1, "certificate verify failed"),
            ),
            "tls_error",
        ),
        (caused(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")), "dns_error"),
        (caused(httpx.ConnectError("x"), ConnectionRefusedError(111, "Connection refused")), "connect_error"),
        (httpx.ConnectTimeout("x"), "timeout"),
        (httpx.ReadTimeout("x"), "timeout"),
        (httpx.PoolTimeout("x"), "timeout"),
        (httpx.RemoteProtocolError("illegal status line"), "protocol_error"),
        (httpx.ReadError("x"), "connect_error"),
        (httpx.UnsupportedProtocol("x"), "refused_url"),
        (httpx.InvalidURL("x"), "refused_url"),
        (OSError(113, "No route to host"), "connect_error"),
        (ValueError("x"), "error"),
    ],
)
def test_a_failed_request_is_logged_as_a_category_never_as_its_text(exc: BaseException, category: str) -> None:
    assert attempt_error(exc) == category
    assert category in DELIVERY_ERRORS
