"""Dependencies shared by every route: the request transaction, the caller, pagination, If-Match, idempotency."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Query, Request, Response, Security
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, BeforeValidator
from pydantic import Strict as StrictMode
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import ProblemError, unauthenticated
from app.db.paging import PageRequest
from app.db.session import unit_of_work
from app.domain.attachments import Limits as AttachmentLimits
from app.domain.draws import ReviewTerms
from app.domain.principal import Principal
from app.services import idempotency
from app.services.clock import Clock
from app.services.storage import ObjectStorage, StorageConfig

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per write, committed before the response is sent (scope="function"); reads (GET, HEAD) run
    in autocommit, without the BEGIN and COMMIT round trips (app.db.session.unit_of_work says why that is the same),
    unless their route declares `WRITES_ON_READ`."""
    read_only = request.method in SAFE_METHODS and not getattr(request.state, "writes_on_read", False)
    async with unit_of_work(request.app.state.sessionmaker, read_only=read_only) as session:
        yield session


def _writes_on_read(request: Request) -> None:
    request.state.writes_on_read = True


# For a route's `dependencies`, solved before its session: a GET that also writes (the transparency log brings its
# Merkle tree up to the feed under an advisory lock) gets a transaction, since in autocommit the lock would end with
# its own statement.
WRITES_ON_READ = Depends(_writes_on_read)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# The one reader of the Authorization header. A FastAPI security class, so the operations that depend on it list the
# `bearerAuth` scheme in the OpenAPI document (Swagger UI's Authorize button, generated clients). auto_error=False:
# a missing or malformed header answers our own 401 problem below, not FastAPI's.
bearer = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description=(
        "A JWT (HS256 with `TIC_AUTH_SECRET`, or RS256 against `TIC_AUTH_JWKS_URL`) with claims `sub`, `role`, "
        '`exp` and, by role, `org_id` or `expert_id` (api.md "Auth"). For a local service: '
        "`python -m app token --role province`."
    ),
    auto_error=False,
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The verified caller, or a 401 problem. RequestContextMiddleware calls this before the body is read (so a
    malformed body without a token answers 401, not 422) and leaves the principal in `request.state.principal`."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        if not request.headers.get("authorization"):
            raise unauthenticated("Missing Authorization header.")
        raise unauthenticated("The Authorization header must be 'Bearer <token>'.")
    principal: Principal = await request.app.state.token_verifier.verify(token)
    request.state.principal = principal
    request.state.principal_sub = principal.sub
    request.state.principal_role = principal.role
    return principal


async def get_principal(request: Request, credentials: BearerCredentials) -> Principal:
    principal = await authenticate(request, credentials)
    if not principal.may_write and request.method not in SAFE_METHODS:
        # Observers read; they never write anything. Every write answers them as it answers any role without the
        # right to it: 404, whatever the resource or its state (domain.md §1), not a 409 naming the roles that may.
        raise ProblemError("not-found")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_clock(request: Request) -> Clock:
    """The programme's clock: calendar dates in the configured time zone (Asia/Shanghai)."""
    return Clock(request.app.state.settings.tz)


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_review_terms(request: Request) -> ReviewTerms:
    """The terms of panel draws and invitations: workload cap, reply days, scoring days (settings)."""
    settings = request.app.state.settings
    return ReviewTerms(
        panel_cap=settings.expert_panel_cap, reply_days=settings.expert_reply_days, score_days=settings.score_days
    )


ReviewTermsDep = Annotated[ReviewTerms, Depends(get_review_terms)]


async def get_current_rule_set(request: Request) -> str:
    """The rule set new fast-track applications and assessment cycles are judged by (a setting)."""
    return str(request.app.state.settings.current_rule_set)


CurrentRuleSetDep = Annotated[str, Depends(get_current_rule_set)]


async def get_document_prefix(request: Request) -> str:
    """The prefix of the numbers the document register issues (豫科, a setting)."""
    return str(request.app.state.settings.document_prefix)


DocumentPrefixDep = Annotated[str, Depends(get_document_prefix)]


def require_roles(*roles: str) -> Any:
    """A dependency that answers 404 to every other role: existence does not leak (domain.md §1)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ProblemError("not-found")
        return principal

    return Depends(dependency)


ProvinceDep = Annotated[Principal, require_roles("province")]


# --- dates, written as the contract says -------------------------------------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _spelled(pattern: re.Pattern[str], example: str) -> Callable[[object], object]:
    # Pydantic would also read 0, 0.0 or "1700000000" as a Unix time; api.md says dates are text, so only text passes
    # (or a date object built in code).
    def check(value: object) -> object:
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"must be written like {example}")
        return value

    return check


# Marks a type that JSON carries as text (a date, an id, a decimal) as parsed from that text even inside the strict
# request models (app/api/v1/common.py `Strict`), where Pydantic would otherwise accept only the Python object.
JsonText = StrictMode(False)

# For request bodies and query strings; responses keep plain `date` / `datetime`.
Rfc3339 = Annotated[AwareDatetime, JsonText, BeforeValidator(_spelled(_RFC3339, "2026-01-31T08:00:00Z"))]
IsoDate = Annotated[date, JsonText, BeforeValidator(_spelled(_ISO_DATE, "2026-01-31"))]


# --- pagination --------------------------------------------------------------------------------------------------


def encode_cursor(key: tuple[datetime, uuid.UUID] | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps([key[0].isoformat(), str(key[1])]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, TypeError, RecursionError, binascii.Error, json.JSONDecodeError) as exc:
        raise ProblemError(
            "validation-failed",
            extra={
                "errors": [
                    {
                        "loc": ["query", "cursor"],
                        "msg": "Invalid cursor; use next_cursor from a previous page.",
                        "type": "cursor_invalid",
                    }
                ]
            },
        ) from exc


async def page_request(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size, 1–200.")] = 50,
    cursor: Annotated[str | None, Query(description="Opaque cursor from `next_cursor`.")] = None,
    updated_since: Annotated[
        Rfc3339 | None,
        Query(description="Incremental sync: only records changed at or after this RFC 3339 instant."),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None, updated_since=updated_since)


PageDep = Annotated[PageRequest, Depends(page_request)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


# --- ETag / If-Match ---------------------------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


async def if_match(
    value: Annotated[str | None, Header(alias="If-Match", description='ETag from a previous read, e.g. "3".')] = None,
) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if text == "*":
        # RFC 9110 §13.1.1: "*" matches any current representation. The resource is loaded before the version is
        # compared, so one that does not exist answers 404 as without the header.
        return None
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        # An ETag this service never issued matches no version: 412, but only once the request is otherwise
        # answerable (RFC 9110 §13.2.1) — a 404 or a 422 for the body comes first, as without the header.
        return UNMATCHABLE_VERSION
    return int(text)


UNMATCHABLE_VERSION = -1  # versions start at 1


IfMatchDep = Annotated[int | None, Depends(if_match)]


class ModelResponse(JSONResponse):
    """A JSON response of a pydantic model, serialised once by pydantic-core: no `jsonable_encoder` pass, and the
    route's `response_model` is not run again (FastAPI leaves a returned Response alone)."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.__pydantic_serializer__.to_json(content)  # bytes, without a str in between
        return super().render(content)


def versioned(
    model: BaseModel, version: int, status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return ModelResponse(model, status_code=status_code, headers={"ETag": etag(version), **(headers or {})})


def page_response(
    model: type[Page[Any]], items: Sequence[BaseModel], next_key: tuple[datetime, uuid.UUID] | None
) -> JSONResponse:
    """A page of already-built read models (they are not validated again)."""
    return ModelResponse(model(items=list(items), next_cursor=encode_cursor(next_key)))


# --- Idempotency-Key ---------------------------------------------------------------------------------------------


@dataclass
class Idempotency:
    session: AsyncSession
    principal: Principal
    key: str | None
    method: str
    path: str

    async def replay(self, body: BaseModel | None) -> JSONResponse | None:
        """Reserve the key, or replay the first response for it (422 when the body differs).

        Call it only once the caller is known to reach what the response is about (a create under a center loads
        the center first): a replay must never show a caller what a GET would answer 404."""
        if self.key is None:
            return None
        payload = jsonable_encoder(body) if body is not None else None
        digest = hashlib.sha256(
            json.dumps([self.method, self.path, payload], sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        stored = await idempotency.reserve(
            self.session,
            principal=self.principal,
            key=self.key,
            method=self.method,
            path=self.path,
            request_hash=digest,
        )
        if stored is None:
            return None
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={**stored.headers, "Idempotent-Replayed": "true"}
        )

    async def respond(self, model: BaseModel, *, status_code: int, headers: dict[str, str]) -> JSONResponse:
        body = jsonable_encoder(model)
        if self.key is not None:
            await idempotency.remember(
                self.session,
                principal=self.principal,
                key=self.key,
                status_code=status_code,
                body=body,
                headers=headers,
            )
        return JSONResponse(body, status_code=status_code, headers=headers)


async def get_idempotency(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key", max_length=200, description="Replays the first response for the same key and body."
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(session=session, principal=principal, key=key, method=request.method, path=request.url.path)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]


def created(model: BaseModel, version: int, location: str) -> dict[str, str]:
    return {"ETag": etag(version), "Location": location}


def paginate(items: Sequence[Any], next_key: tuple[datetime, uuid.UUID] | None) -> dict[str, Any]:
    return {"items": list(items), "next_cursor": encode_cursor(next_key)}


def response_headers(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


# --- attachments' object store ------------------------------------------------------------------------------------


def storage_of(settings: Any) -> ObjectStorage:
    """The object store the settings name: the S3-compatible bucket of TIC_STORAGE_URL, else TIC_DATA_DIR/objects."""
    secret = settings.storage_secret_access_key
    return ObjectStorage.build(
        StorageConfig(
            url=settings.storage_url,
            local_root=Path(settings.data_dir) / "objects",
            endpoint=settings.storage_endpoint,
            region=settings.storage_region,
            access_key_id=settings.storage_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
        )
    )


async def get_storage(request: Request) -> ObjectStorage:
    """Built on first use and kept for the process (creating it does no I/O for S3; it makes the local folder)."""
    state = request.app.state
    if getattr(state, "storage", None) is None:
        state.storage = storage_of(state.settings)
    storage: ObjectStorage = state.storage
    return storage


StorageDep = Annotated[ObjectStorage, Depends(get_storage)]


async def get_attachment_limits(request: Request) -> AttachmentLimits:
    settings = request.app.state.settings
    return AttachmentLimits(settings.attachment_max_bytes, settings.attachment_subject_max_bytes)


AttachmentLimitsDep = Annotated[AttachmentLimits, Depends(get_attachment_limits)]
