"""A token is verified once per token (issue 13): a bounded LRU keyed by the token's digest, that honours `exp`."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from app.api.auth import JWKS_LIFESPAN_SECONDS, TokenVerifier, VerifiedTokens, issue_token
from app.api.problems import ProblemError
from app.domain.principal import Principal
from app.settings import Settings

SECRET = "unit-secret-0123456789abcdef0123456789"


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(Settings(auth_secret=SECRET, environment="test"))


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every real signature check."""
    calls: list[str] = []
    decode = jwt.decode

    def spy(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", spy)
    return calls


async def test_the_same_token_is_checked_once_and_answers_the_same_principal(
    verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting(monkeypatch)
    token = issue_token(SECRET, role="province", sub="p1")
    first = await verifier.verify(token)
    again = [await verifier.verify(token) for _ in range(5)]
    assert calls == [token]
    assert all(p == first for p in again)
    assert first == Principal(sub="p1", role="province", org_id=None, expert_id=None)
    other = issue_token(SECRET, role="observer", sub="o1")
    assert (await verifier.verify(other)).role == "observer"
    assert calls == [token, other]


async def test_the_cache_keeps_digests_not_tokens(verifier: TokenVerifier) -> None:
    token = issue_token(SECRET, role="province")
    await verifier.verify(token)
    assert len(verifier.cache) == 1
    assert all(token.encode() not in key for key in verifier.cache._entries)


async def test_a_bad_token_is_never_cached(verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch)
    forged = issue_token("another-secret-0123456789abcdef0123", role="province")
    for _ in range(2):
        with pytest.raises(ProblemError):
            await verifier.verify(forged)
    assert len(calls) == 2
    assert len(verifier.cache) == 0


def test_an_entry_answers_only_until_the_tokens_exp() -> None:
    now = [1000.0]
    cache = VerifiedTokens(clock=lambda: now[0])
    principal = Principal(sub="s", role="province", org_id=None, expert_id=None)
    cache.put(b"k", principal, until=1060.0)
    assert cache.get(b"k") == principal
    now[0] = 1060.0
    assert cache.get(b"k") is None
    assert len(cache) == 0


async def test_an_expired_token_is_refused_even_after_it_was_cached(verifier: TokenVerifier) -> None:
    token = issue_token(SECRET, role="province", ttl_seconds=1)
    await verifier.verify(token)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, exp - time.time()) + 0.05)
    with pytest.raises(ProblemError) as refused:
        await verifier.verify(token)
    assert refused.value.detail == "The token has expired."


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache = VerifiedTokens(size=2, clock=lambda: 0.0)
    p = Principal(sub="s", role="province", org_id=None, expert_id=None)
    cache.put(b"a", p, 10)
    cache.put(b"b", p, 10)
    assert cache.get(b"a") == p  # a is now the most recently used
    cache.put(b"c", p, 10)
    assert cache.get(b"b") is None
    assert cache.get(b"a") == p
    assert cache.get(b"c") == p
    assert len(cache) == 2


async def test_a_jwks_token_is_trusted_no_longer_than_the_key_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rotated key stops being honoured when the verifier's own copy of the key set would be refreshed."""
    verifier = TokenVerifier(Settings(auth_secret=SECRET, environment="test", auth_jwks_url="http://127.0.0.1:9/jwks"))
    principal = Principal(sub="s", role="province", org_id=None, expert_id=None)
    far = time.time() + 24 * 3600

    async def verified(token: str) -> tuple[Principal, dict[str, Any]]:
        return principal, {"exp": far}

    monkeypatch.setattr(verifier, "_verify", verified)
    await verifier.verify("a.b.c")
    (_, until), *_ = verifier.cache._entries.values()
    assert until <= time.time() + JWKS_LIFESPAN_SECONDS
