"""One pure-ASGI middleware for what every request needs: request id, body limit, metrics, access log, and the
last-resort 500 problem (with the request id, never the exception text)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.routing import Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import mapped_problem, problem_response

log = structlog.get_logger("tic.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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


class RouteTable:
    """Full path templates (`/api/v1/organizations/{org_id}`) and their methods, built once from the app.

    `scope["route"]` cannot serve here: recent FastAPI resolves included routers lazily and leaves there the route
    as its own router declared it (`/organizations/{org_id}`, without `/api/v1`), and Starlette reports only the
    first partially matching route's methods in a 405's `Allow`. The OpenAPI paths are the public, full table.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[re.Pattern[str], str, frozenset[str]]] | None = None

    def _build(self, app: Any) -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
        methods: dict[str, set[str]] = {}
        for route in getattr(app, "routes", []):
            if isinstance(route, Route) and route.methods:  # routes outside the schema: /docs, /openapi.json
                methods.setdefault(route.path_format, set()).update(route.methods)
        for path, operations in app.openapi().get("paths", {}).items():
            methods.setdefault(path, set()).update(verb.upper() for verb in operations)
        return [(compile_path(path)[0], path, frozenset(verbs)) for path, verbs in methods.items()]

    def match(self, scope: Scope) -> tuple[str | None, frozenset[str]]:
        """The template the router picks for this path and method (a full match first, as Starlette does, else the
        first path match), and every method the path accepts."""
        if self._entries is None:
            app = scope.get("app")
            if app is None:
                return None, frozenset()
            self._entries = self._build(app)
        path, method = scope.get("path", ""), scope.get("method", "")
        full: str | None = None
        partial: str | None = None
        allowed: set[str] = set()
        for regex, template, methods in self._entries:
            if regex.match(path):
                allowed |= methods
                if full is None and method in methods:
                    full = template
                partial = partial or template
        return full or partial, frozenset(allowed)


class _BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
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
        status_holder = {"status": 500, "started": False}
        too_large = {"hit": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if too_large["hit"]:
                    return  # the 413 problem below replaces whatever the app answered
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                raw = list(message.get("headers", []))
                allowed = self.routes.match(scope)[1] if message["status"] == 405 else None
                if allowed:
                    raw = [(k, v) for k, v in raw if k.lower() != b"allow"]
                    raw.append((b"allow", ", ".join(sorted(allowed)).encode()))
                raw.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": raw}
            elif message["type"] == "http.response.body" and too_large["hit"]:
                return
            await send(message)

        received = {"bytes": 0}

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > self.max_body_bytes:
                    too_large["hit"] = True
                    raise _BodyTooLarge
            return message

        try:
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                too_large["hit"] = True
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as exc:
            if not too_large["hit"] and not status_holder["started"]:
                response = mapped_problem(request, exc)
                if response is None:
                    log.exception("unhandled", request_id=request_id, path=scope.get("path"))
                    response = problem_response(request, "internal-error")
                await response(scope, receive, send_wrapper)
            elif not too_large["hit"]:
                log.exception("failed after the response started", request_id=request_id)
                raise
        if too_large["hit"]:
            status_holder["status"] = 413
            response = problem_response(request, "payload-too-large", extra={"limit_bytes": self.max_body_bytes})
            response.headers["x-request-id"] = request_id
            await response(scope, receive, send)

        elapsed = time.perf_counter() - started
        template = self.routes.match(scope)[0] or "unmatched"
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
