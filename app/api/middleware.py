"""One pure-ASGI middleware for what every request needs: request id, authentication before the body, body limits
(size and JSON depth), metrics, access log, and the last-resort 500 problem (with the request id, never the exception
text; its traceback logged at most once a minute per error class)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import fastapi.routing
import structlog
from fastapi.dependencies.models import Dependant
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import authenticate, bearer, get_principal
from app.api.problems import ProblemError, mapped_problem, problem_response
from app.logging import TracebackGate, error_class

log = structlog.get_logger("tic.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# No request body of this API nests deeper than a few levels (free-form fields are held to 8, see
# app/api/v1/common.py); past this bound a body is refused before the JSON parser or Pydantic recurse into it.
MAX_JSON_DEPTH = 16
_JSON_ESCAPE = re.compile(rb"\\.", re.DOTALL)
# Keep only the brackets, objects' as arrays': nesting depth is the same, and one `replace` peels both kinds at once.
_BRACKETS_ONLY = bytes.maketrans(b"{}", b"[]")
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def nests_deeper_than(body: bytes | bytearray, limit: int) -> bool:
    """True when arrays and objects in this JSON text nest more than `limit` levels (or it opens more than `limit`
    that never close). Linear-time work done in C: count brackets; only when there are more than `limit`, drop the
    strings' contents (escapes first, then every other piece between quotes), keep the brackets and peel one level
    of innermost pairs per round, at most `limit` rounds."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    text = bytes(body)
    if b"\\" in text:
        text = _JSON_ESCAPE.sub(b"", text)
    skeleton = b"".join(text.split(b'"')[::2]).translate(_BRACKETS_ONLY, _NOT_A_BRACKET)
    if b"[" * (limit + 1) in skeleton:  # the common attack, found in one search
        return True
    for _ in range(limit):
        peeled = skeleton.replace(b"[]", b"")
        if len(peeled) == len(skeleton):  # nothing left to peel: empty, or brackets that do not pair (invalid JSON)
            break
        skeleton = peeled
    # A pair left after `limit` peels sat deeper than `limit`; so do more than `limit` openers that never close.
    return b"[]" in skeleton or skeleton.count(b"[") > limit


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency by route",
            ["method", "route", "status"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.requests = Counter(
            "http_requests_total", "Requests by route", ["method", "route", "status"], registry=registry
        )


def _needs(dependant: Dependant, call: Callable[..., Any]) -> bool:
    stack = [dependant]
    while stack:
        current = stack.pop()
        if current.call is call:
            return True
        stack.extend(current.dependencies)
    return False


class RouteTable:
    """Full path templates (`/api/v1/organizations/{org_id}`), their methods, and which (template, method) pairs
    need a token, built once from the app.

    `scope["route"]` cannot serve here: recent FastAPI resolves included routers lazily and leaves there the route
    as its own router declared it (`/organizations/{org_id}`, without `/api/v1`), and Starlette reports only the
    first partially matching route's methods in a 405's `Allow`. The OpenAPI paths are the public, full table; the
    route contexts (walked as tests/api/test_authorization_matrix.py does) tell which routes depend on the caller.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[str, int, re.Pattern[str], str, frozenset[str]]] | None = None
        self._protected: frozenset[tuple[str, str]] = frozenset()

    def _build(self, app: Any) -> list[tuple[str, int, re.Pattern[str], str, frozenset[str]]]:
        methods: dict[str, set[str]] = {}
        protected: set[tuple[str, str]] = set()
        walk = getattr(fastapi.routing, "iter_route_contexts", None)
        routes = getattr(app, "routes", [])
        for route in routes:
            if isinstance(route, Route) and route.methods:  # routes outside the schema: /docs, /openapi.json
                methods.setdefault(route.path_format, set()).update(route.methods)
        for route in walk(routes) if walk is not None else routes:
            path, verbs, dependant = (getattr(route, name, None) for name in ("path_format", "methods", "dependant"))
            if path and verbs and isinstance(dependant, Dependant) and _needs(dependant, get_principal):
                protected.update((path, verb) for verb in verbs)
        for path, operations in app.openapi().get("paths", {}).items():
            methods.setdefault(path, set()).update(verb.upper() for verb in operations)
        self._protected = frozenset(protected)
        # Each template's literal start (up to its first parameter) and number of segments (-1 when a `:path`
        # parameter may span several): a path that differs in either cannot match, so the regex runs only for the one
        # or two templates that can, after cheap checks of the other ~80.
        return [
            (
                path.split("{", 1)[0],
                -1 if ":path}" in path else path.count("/"),
                compile_path(path)[0],
                path,
                frozenset(verbs),
            )
            for path, verbs in methods.items()
        ]

    def match(self, scope: Scope) -> tuple[str | None, frozenset[str], bool]:
        """The template the router picks for this path and method (a full match first, as Starlette does, else the
        first path match), every method the path accepts, and whether the route it picks needs a token."""
        if self._entries is None:
            app = scope.get("app")
            if app is None:
                return None, frozenset(), False
            self._entries = self._build(app)
        path, method = scope.get("path", ""), scope.get("method", "")
        full: str | None = None
        partial: str | None = None
        allowed: set[str] = set()
        segments = path.count("/")
        for prefix, slashes, regex, template, methods in self._entries:
            if slashes in (segments, -1) and path.startswith(prefix) and regex.match(path):
                allowed |= methods
                if full is None and method in methods:
                    full = template
                partial = partial or template
        return full or partial, frozenset(allowed), full is not None and (full, method) in self._protected


# Room for a multipart body's boundaries, part headers and the `kind` and `note` fields around the file.
UPLOAD_ENVELOPE_BYTES = 64 * 1024


class _Refused(Exception):
    """Raised from `receive` to stop the app reading a body the middleware refuses."""


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        max_upload_bytes: int | None = None,
        max_json_depth: int = MAX_JSON_DEPTH,
        tracebacks: TracebackGate | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # Attachment uploads (POST …/attachments) carry files up to TIC_ATTACHMENT_MAX_BYTES, plus the multipart
        # envelope; every other body keeps the small limit.
        self.max_upload_bytes = max_upload_bytes if max_upload_bytes is not None else max_body_bytes
        self.max_json_depth = max_json_depth
        self.tracebacks = tracebacks or TracebackGate()
        self.routes = RouteTable()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        request = Request(scope)
        template, _, protected = self.routes.match(scope)
        status_holder = {"status": 500, "started": False}
        # A problem the middleware answers instead of the app: a body too large or too deep, a missing token.
        refusal: list[Response] = []

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if refusal:
                    return  # the refusal below replaces whatever the app answered
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                raw = list(message.get("headers", []))
                allowed = self.routes.match(scope)[1] if message["status"] == 405 else None
                if allowed:
                    raw = [(k, v) for k, v in raw if k.lower() != b"allow"]
                    raw.append((b"allow", ", ".join(sorted(allowed)).encode()))
                raw.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": raw}
            elif message["type"] == "http.response.body" and refusal:
                return
            await send(message)

        upload = scope.get("method") == "POST" and (template or "").endswith("/attachments")
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        received = {"bytes": 0}
        json_body = bytearray() if _is_json(headers.get("content-type")) else None

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received["bytes"] += len(chunk)
                if received["bytes"] > limit:
                    refusal.append(self._too_large(request, upload))
                    raise _Refused
                if json_body is not None:
                    json_body.extend(chunk)
                    if not message.get("more_body", False) and nests_deeper_than(json_body, self.max_json_depth):
                        refusal.append(self._too_deep(request))
                        raise _Refused
            return message

        try:
            length = headers.get("content-length")
            if protected and (unauthenticated := await self._authenticate(request)) is not None:
                # First, before anything is read of the body: without a valid token a request learns nothing else,
                # so a malformed or oversized body answers 401, not 422 or 413.
                refusal.append(unauthenticated)
            elif length is not None and length.isdigit() and int(length) > limit:
                refusal.append(self._too_large(request, upload))
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as exc:
            if not refusal and not status_holder["started"]:
                response = mapped_problem(request, exc)
                if response is None:
                    self._log_unexpected("unhandled", exc, request_id=request_id, path=scope.get("path"))
                    response = problem_response(request, "internal-error")
                await response(scope, receive, send_wrapper)
            elif not refusal:
                self._log_unexpected("failed after the response started", exc, request_id=request_id)
                raise
        if refusal:
            answer = refusal[0]
            status_holder["status"] = answer.status_code
            answer.headers["x-request-id"] = request_id
            await answer(scope, receive, send)

        elapsed = time.perf_counter() - started
        template = template or "unmatched"
        status = str(status_holder["status"])
        method = scope.get("method", "")
        self.metrics.latency.labels(method, template, status).observe(elapsed)
        self.metrics.requests.labels(method, template, status).inc()
        state: dict[str, Any] = scope.get("state", {})
        log.info(
            "request",
            request_id=request_id,
            method=method,
            path=scope.get("path"),
            route=template,
            status=int(status),
            latency_ms=round(elapsed * 1000, 2),
            principal=state.get("principal_sub"),
            role=state.get("principal_role"),
        )

    async def _authenticate(self, request: Request) -> Response | None:
        try:
            await authenticate(request, await bearer(request))
        except ProblemError as exc:
            return mapped_problem(request, exc)
        return None

    def _too_large(self, request: Request, upload: bool = False) -> Response:
        if upload:
            # The file alone may be at most limit - UPLOAD_ENVELOPE_BYTES; the service checks it exactly.
            limit = self.max_upload_bytes - UPLOAD_ENVELOPE_BYTES
            return problem_response(request, "attachment-too-large", extra={"limit_bytes": limit})
        return problem_response(request, "payload-too-large", extra={"limit_bytes": self.max_body_bytes})

    def _too_deep(self, request: Request) -> Response:
        error = {
            "loc": ["body"],
            "msg": f"JSON nests deeper than {self.max_json_depth} levels of arrays and objects",
            "type": "json_too_deep",
        }
        return problem_response(request, "validation-failed", extra={"errors": [error]})

    def _log_unexpected(self, event: str, exc: Exception, **fields: Any) -> None:
        """Every unexpected error gets one line with its request id; its traceback only once per class and window."""
        kind = error_class(exc)
        show, held_back = self.tracebacks.admit(kind)
        if show:
            log.error(event, error=kind, tracebacks_held_back=held_back, exc_info=exc, **fields)
        else:
            window = self.tracebacks.window_seconds
            log.error(event, error=kind, traceback=f"held back (one per error class every {window:g} s)", **fields)
