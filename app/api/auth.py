"""Bearer tokens (api.md "Auth"): HS256 with TIC_AUTH_SECRET, or RS256 against a JWKS URL; same claims either way."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio
import jwt
from jwt import PyJWKClient

from app.api.problems import ProblemError, unauthenticated
from app.domain.principal import ORG_ROLES, ROLE_NAMES, Principal
from app.settings import Settings


class VerifiedTokens:
    """A bounded LRU of tokens already verified, keyed by the SHA-256 of the token (never the token itself): a caller
    that sends the same token with every request pays for the signature check and the claims once.

    An entry answers only until the token's `exp` and, for tokens verified against a JWKS, no longer than the key set
    is cached (`PyJWKClient`'s lifespan): a key the issuer rotated out stops being honoured as soon as the verifier
    itself would stop trusting it. Failures are never cached.
    """

    def __init__(self, size: int = 4096, *, clock: Callable[[], float] | None = None) -> None:
        self._size = size
        self._clock = clock or (lambda: time.time())
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, until = entry
        if self._clock() >= until:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return principal

    def put(self, key: bytes, principal: Principal, until: float) -> None:
        self._entries[key] = (principal, until)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# PyJWKClient's default lifespan of a fetched key set (seconds); entries of JWKS tokens live no longer than it.
JWKS_LIFESPAN_SECONDS = 300


class TokenVerifier:
    def __init__(self, settings: Settings, *, cache: VerifiedTokens | None = None) -> None:
        self._secret = settings.auth_secret.get_secret_value()
        self._audience = settings.auth_audience
        self._jwks = (
            PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=JWKS_LIFESPAN_SECONDS)
            if settings.auth_jwks_url
            else None
        )
        self.cache = cache if cache is not None else VerifiedTokens()

    async def verify(self, token: str) -> Principal:
        key = self.cache.key(token)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        principal, claims = await self._verify(token)
        until = float(claims["exp"])
        if self._jwks is not None:
            until = min(until, time.time() + JWKS_LIFESPAN_SECONDS)
        self.cache.put(key, principal, until)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, dict[str, Any]]:
        try:
            if self._jwks is not None:
                jwks = self._jwks
                # PyJWKClient fetches over blocking HTTP; keep it off the event loop.
                signing_key = await anyio.to_thread.run_sync(jwks.get_signing_key_from_jwt, token)
                claims = jwt.decode(
                    token,
                    signing_key.key,
                    algorithms=["RS256"],
                    audience=self._audience,
                    options={"require": ["sub", "role", "exp"], "verify_aud": bool(self._audience)},
                )
            else:
                claims = jwt.decode(
                    token,
                    self._secret,
                    algorithms=["HS256"],
                    audience=self._audience,
                    options={"require": ["sub", "role", "exp"], "verify_aud": bool(self._audience)},
                )
        except jwt.ExpiredSignatureError as exc:
            raise unauthenticated("The token has expired.") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise unauthenticated(f"The token is not valid: {type(exc).__name__}.") from exc
        return principal_from_claims(claims), claims


def _uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID | None:
    value = claims.get(name)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise unauthenticated(f"Claim {name!r} must be a UUID.") from exc


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    role = claims.get("role")
    if role not in ROLE_NAMES:
        raise unauthenticated(f"Unknown role {role!r}.")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise unauthenticated("Claim 'sub' is required.")
    org_id = _uuid_claim(claims, "org_id")
    expert_id = _uuid_claim(claims, "expert_id")
    if role in ORG_ROLES and org_id is None:
        raise unauthenticated(f"Role {role!r} needs an 'org_id' claim.")
    if role == "expert" and expert_id is None:
        raise unauthenticated("Role 'expert' needs an 'expert_id' claim.")
    return Principal(sub=sub, role=str(role), org_id=org_id, expert_id=expert_id)


def issue_token(
    secret: str,
    *,
    role: str,
    sub: str | None = None,
    org_id: str | None = None,
    expert_id: str | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """A development token signed with the HS256 secret (used by `python -m app token` and the tests)."""
    if role not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLE_NAMES)}")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub or f"{role}-dev", "role": role, "iat": now, "exp": now + ttl_seconds}
    if org_id:
        claims["org_id"] = str(uuid.UUID(org_id))
    if expert_id:
        claims["expert_id"] = str(uuid.UUID(expert_id))
    return jwt.encode(claims, secret, algorithm="HS256")


__all__ = ["ProblemError", "TokenVerifier", "VerifiedTokens", "issue_token", "principal_from_claims"]
