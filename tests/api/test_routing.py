"""The v1 routes are mounted flat on the application's router (app/api/routing.py): every route still answers under
/api/v1 with the version's dependencies in front, and nothing is left behind an included router, whose matching
FastAPI repeats at each level for every request."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.dates import bind_request_day
from app.api.ops import router as ops_router
from app.api.v1 import router as v1_router


def test_every_v1_route_is_on_the_application_router_with_the_request_day_bound_first(app: FastAPI) -> None:
    mounted = {
        (route.path, frozenset(route.methods)): route for route in app.router.routes if isinstance(route, APIRoute)
    }
    included = [route.original_router for route in app.router.routes if hasattr(route, "original_router")]
    assert included == [ops_router], "only the operations routes (/healthz, /readyz, /metrics) stay included"
    declared = [route for route in v1_router.routes if isinstance(route, APIRoute)]
    assert len(declared) == len(v1_router.routes) > 100
    for route in declared:
        flat = mounted.get(("/api/v1" + route.path, frozenset(route.methods)))
        assert flat is not None, route.path
        assert flat.endpoint is route.endpoint
        assert flat.dependencies[0].dependency is bind_request_day, route.path
        assert flat.dependencies[1:] == route.dependencies, route.path
        assert (flat.operation_id, flat.response_model, flat.status_code, flat.tags, flat.responses) == (
            route.operation_id,
            route.response_model,
            route.status_code,
            route.tags,
            route.responses,
        ), route.path
        # Dependency overrides (tests, and the service's own) reach the mounted route through the application.
        assert flat.dependency_overrides_provider is app


def test_a_request_tries_each_route_once_in_declaration_order(app: FastAPI) -> None:
    paths = [route.path for route in app.router.routes if isinstance(route, APIRoute) and route.path.startswith("/api")]
    assert paths == ["/api/v1" + route.path for route in v1_router.routes if isinstance(route, APIRoute)]
