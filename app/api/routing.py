"""Mounting the v1 routes flat on the application's own router.

FastAPI (0.165) keeps an included router as a node that, for every request, tries each route inside it to see whether
the router matches, and then again when it dispatches into it; with the v1 router and its 21 resource routers that was
about 120 route matches per request and a fifth of a single read's CPU (bench/RESULTS.md, run 4). The application's
own router tries its routes once, in order, and stops at the first full match. So the v1 routes are declared on their
resource routers as usual (prefix, tags, dependencies, responses: FastAPI bakes a router's settings into each route
when it is declared) and then re-declared here, one by one, on the application's router with the version prefix and
the version's dependencies in front, exactly as `include_router` copied routes in earlier FastAPI releases. The
OpenAPI document is the same (the drift check compares it byte for byte).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, params
from fastapi.routing import APIRoute, APIRouter

# What a route was declared with, read back from the route (same names as APIRoute's constructor). `path` and
# `dependencies` are given with the prefix and the version's dependencies; the overrides provider is the app's.
_SETTINGS = tuple(
    name
    for name in inspect.signature(APIRoute.__init__).parameters
    if name not in ("self", "path", "endpoint", "dependencies", "dependency_overrides_provider")
)


def mount_flat(app: FastAPI, router: APIRouter, *, prefix: str, dependencies: Sequence[params.Depends]) -> None:
    for route in router.routes:
        if not isinstance(route, APIRoute):  # pragma: no cover - every v1 route is an APIRoute (tested)
            raise TypeError(f"cannot mount {route!r} flat")
        declared: dict[str, Any] = {name: getattr(route, name) for name in _SETTINGS if hasattr(route, name)}
        app.router.add_api_route(
            prefix + route.path, route.endpoint, dependencies=[*dependencies, *route.dependencies], **declared
        )
