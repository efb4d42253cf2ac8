"""Bearer tokens (api.md "Auth"): HS256 with TIC_AUTH_SECRET, or RS256 against a JWKS URL; same claims either way."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import jwt
from jwt import PyJWKClient

from app.api.problems import ProblemError, unauthenticated
from app.domain.principal import ORG_ROLES, ROLE_NAMES, Principal
from app.settings import Settings


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.auth_secret.get_secret_value()
        self._audience = settings.auth_audience
        self._jwks = PyJWKClient(settings.auth_jwks_url, cache_keys=True) if settings.auth_jwks_url else None

    async def verify(self, token: str) -> Principal:
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
        return principal_from_claims(claims)


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


__all__ = ["ProblemError", "TokenVerifier", "issue_token", "principal_from_claims"]
