"""What the OpenAPI document says beyond the routes: servers, contact, license, tags, who may call each operation,
which operations need no token; and the interactive docs (/docs, /redoc) served from this process, not a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api.access import ACCESS, describe

API_PREFIX = "/api/v1"
VERBS = ("get", "put", "post", "patch", "delete")

SERVERS = [
    {"url": "/", "description": "The service that serves this document / 提供本文档的服务"},
    {"url": "http://127.0.0.1:8000", "description": "A local service started with `make run` / 本地服务"},
]
CONTACT = {"name": "Henan TIC lifecycle service maintainers (河南省技术创新中心全周期管理服务维护组)"}
LICENSE = {
    "name": "Proprietary: Henan Provincial Department of Science and Technology",
    "identifier": "LicenseRef-Proprietary",
}

# Every tag the routes use, in the order the docs show them (tests/test_openapi.py keeps the two in step).
TAGS: list[dict[str, str]] = [
    {"name": "operations", "description": "Liveness, readiness and metrics; no token. 运行状态与指标，无需令牌。"},
    {"name": "reference", "description": "Code tables and the lifecycles' state machines. 代码表与状态机。"},
    {"name": "organizations", "description": "Organizations: leads, participants, departments, agencies. 单位。"},
    {"name": "experts", "description": "The expert pool the province draws review panels from. 专家库。"},
    {"name": "calls", "description": "Yearly calls for applications (申报通知)."},
    {
        "name": "applications",
        "description": "Applications: draft, eligibility, submission, recommendation, review, approval. 组建申请。",
    },
    {
        "name": "attachments",
        "description": "Documents of applications and centers, stored by SHA-256, and the formal review that checks "
        "them before expert review (附件与形式审查).",
    },
    {"name": "review", "description": "Expert panels, scores and site visits (专家评审与现场考察)."},
    {
        "name": "centers",
        "description": "Centers from approval through construction, acceptance and recognition to exit. 创新中心。",
    },
    {"name": "annual reports", "description": "A center's yearly reports and their endorsement (年度报告)."},
    {
        "name": "change requests",
        "description": "Changes to a center's name, director, direction or task book (变更申请).",
    },
    {
        "name": "publicity",
        "description": "Public notices (公示) of the lists to approve or recognize, on the official PRC working-day "
        "calendar, and objections (异议); the published list is readable without a token.",
    },
    {"name": "obligations", "description": "What is due, from whom and by when (待办事项与期限)."},
    {"name": "inbox", "description": "What the caller must do now, for every role (待办)."},
    {"name": "assessment", "description": "Assessment cycles, results and national candidates (绩效评价)."},
    {"name": "funding", "description": "Provincial funding records and their summary (资金)."},
    {
        "name": "documents",
        "description": "Numbered official documents of decisions, as JSON and PDF, with the digest the feed records "
        "(批复、认定、整改通知、撤销).",
    },
    {"name": "events", "description": "The append-only, hash-chained event feed (事件流)."},
    {"name": "statistics and exports", "description": "Counts and spreadsheet exports (统计与导出)."},
    {
        "name": "log",
        "description": "The feed as a transparency log: signed checkpoints, inclusion and consistency proofs "
        "(透明日志).",
    },
    {"name": "webhooks", "description": "Subscriptions that receive the event feed by signed POST (Webhook 订阅)."},
]

DOCS_ASSETS = "/docs-assets"
# Swagger UI and Redoc as a Python package ships them, so the docs work on a machine without internet access.
_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"


def document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, completed once: every operation under /api/v1 ends its description with who may call it
    (app/api/access.py); an operation without the bearer scheme says `security: []`, so that no token is expected."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = FastAPI.openapi(app)
    for path, item in spec.get("paths", {}).items():
        for verb in VERBS:
            operation = item.get(verb)
            if operation is None:
                continue
            if "security" not in operation:
                operation["security"] = []
            access = ACCESS.get((verb.upper(), path.removeprefix(API_PREFIX))) if path.startswith(API_PREFIX) else None
            if access is not None:
                text = operation.get("description", "").rstrip()
                operation["description"] = f"{text}\n\n{describe(access)}" if text else describe(access)
    app.openapi_schema = spec
    return spec


def install(app: FastAPI) -> None:
    """The document's extras, and /docs and /redoc with their scripts served by this process."""
    app.servers = SERVERS
    app.contact = CONTACT
    app.license_info = LICENSE
    app.openapi_tags = TAGS
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(directory=_ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # Keep the token across reloads while trying calls.
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
