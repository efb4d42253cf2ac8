"""RFC 9457 problem details: the one table that maps errors to `application/problem+json`.

Titles and details come from one bilingual catalogue, chosen by `Accept-Language` (zh first for `zh`, `zh-CN`;
English otherwise). Domain and service errors carry data; this module decides their status and stable `code`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import (
    ActionBlocked,
    ConflictOfInterest,
    Ineligible,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
)
from app.domain.publicity import CalendarNotCovered
from app.services.errors import (
    AlreadyExists,
    AttachmentRefused,
    IdempotencyKeyReused,
    InvalidReference,
    NotFound,
    ValidationFailed,
    VersionMismatch,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "instance", "request_id"})
TYPE_BASE = "https://tic.kjt.henan.gov.cn/problems/"


@dataclass(frozen=True)
class Entry:
    status: int
    title_en: str
    title_zh: str
    detail_en: str
    detail_zh: str


CATALOGUE: dict[str, Entry] = {
    "validation-failed": Entry(
        422,
        "Validation failed",
        "请求参数校验失败",
        "One or more fields are invalid; see errors.",
        "一个或多个字段不合法，详见 errors。",
    ),
    "not-found": Entry(
        404,
        "Not found",
        "资源不存在",
        "The resource does not exist or is out of your reach.",
        "资源不存在或您无权访问。",
    ),
    "method-not-allowed": Entry(
        405,
        "Method not allowed",
        "不支持的请求方法",
        "This method is not allowed on this path.",
        "该路径不支持此请求方法。",
    ),
    "invalid-transition": Entry(
        409,
        "Action not allowed now",
        "当前状态不允许该操作",
        "The action is not allowed in the current state for your role.",
        "当前状态下您的角色不能执行该操作。",
    ),
    "ineligible": Entry(
        409,
        "Eligibility rules failed",
        "不符合建设条件",
        "One or more eligibility rules fail; see checks.",
        "一项或多项建设条件不满足，详见 checks。",
    ),
    "conflict-of-interest": Entry(
        409,
        "Conflict of interest",
        "专家需回避",
        "An expert must recuse because of an affiliation or a declared conflict.",
        "专家与申报单位存在关联或已申报利益冲突，须回避。",
    ),
    "rule-violation": Entry(
        409, "A rule forbids this", "不符合业务规则", "A business rule forbids this request.", "该请求违反业务规则。"
    ),
    "calendar-unavailable": Entry(
        422,
        "Working-day calendar unavailable",
        "工作日历不可用",
        "The official PRC holiday calendar of that year is not published (or not known to the service) yet.",
        "该年度的国家法定节假日安排尚未公布或尚未收录，无法计算工作日。",
    ),
    "already-exists": Entry(
        409, "Already exists", "资源已存在", "A resource with this value already exists.", "已存在相同取值的资源。"
    ),
    "conflict": Entry(
        409, "Conflict", "数据冲突", "The request conflicts with the stored data.", "请求与已存储的数据冲突。"
    ),
    "version-mismatch": Entry(
        412,
        "Version mismatch",
        "版本不一致",
        "The resource changed since you read it; reload and retry with the new ETag.",
        "资源已被修改，请重新读取并使用新的 ETag 重试。",
    ),
    "idempotency-key-reused": Entry(
        422,
        "Idempotency key reused",
        "幂等键被重复使用",
        "This Idempotency-Key was used with a different request body.",
        "该 Idempotency-Key 已用于不同的请求内容。",
    ),
    "unauthenticated": Entry(
        401, "Unauthenticated", "未认证", "A valid Bearer token is required.", "需要有效的 Bearer 令牌。"
    ),
    "payload-too-large": Entry(
        413, "Payload too large", "请求体过大", "The request body exceeds the limit.", "请求体超过大小限制。"
    ),
    "attachment-too-large": Entry(
        413,
        "Attachment too large",
        "附件过大",
        "The file exceeds the per-file limit; see limit_bytes.",
        "文件超过单个附件大小上限，详见 limit_bytes。",
    ),
    "attachment-empty": Entry(422, "Attachment empty", "附件为空", "The file is empty.", "上传的文件为空。"),
    "attachment-type-refused": Entry(
        422,
        "Attachment type refused",
        "附件类型不被接受",
        "The file's content is not one of the accepted types (PDF, PNG, JPEG, OFD, XLSX, DOCX, ZIP).",
        "文件内容不属于可接受的类型（PDF、PNG、JPEG、OFD、XLSX、DOCX、ZIP）。",
    ),
    "attachment-quota-exceeded": Entry(
        409,
        "Attachment quota exceeded",
        "附件总量超限",
        "The subject's attachments would exceed their total limit; see limit_bytes and stored_bytes.",
        "该对象的附件总量将超过上限，详见 limit_bytes 与 stored_bytes。",
    ),
    "database-unavailable": Entry(
        503,
        "Service unavailable",
        "服务暂不可用",
        "The database is unavailable; retry later.",
        "数据库暂不可用，请稍后重试。",
    ),
    "internal-error": Entry(
        500,
        "Internal error",
        "服务器内部错误",
        "An unexpected error occurred; quote the request id when reporting it.",
        "发生意外错误，反馈时请提供请求编号。",
    ),
    "http-error": Entry(400, "Bad request", "错误的请求", "The request could not be processed.", "无法处理该请求。"),
}


class ProblemDetail(BaseModel):
    """RFC 9457 problem details with a stable `code`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[TYPE_BASE + "not-found"])
    title: str
    status: int
    detail: str | None = None
    code: str = Field(examples=["not-found"])
    instance: str | None = None
    request_id: str | None = None


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(ProblemDetail):
    errors: list[ValidationItem]


def prefers_chinese(accept_language: str | None) -> bool:
    """True when the highest-ranked language the caller accepts is Chinese (RFC 9110 q-values)."""
    if not accept_language:
        return False
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, index, tag))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return True
        if tag.startswith("en") or tag == "*":
            return False
    return False


def problem_response(
    request: Request | None,
    code: str,
    *,
    status: int | None = None,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    accept_language: str | None = None,
) -> JSONResponse:
    entry = CATALOGUE.get(code, CATALOGUE["http-error"])
    language = accept_language if request is None else request.headers.get("accept-language")
    zh = prefers_chinese(language)
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": entry.title_zh if zh else entry.title_en,
        "status": status or entry.status,
        "detail": detail or (entry.detail_zh if zh else entry.detail_en),
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    if extra:
        # The RFC 9457 members are the catalogue's; extension data never overrides them.
        body.update({key: value for key, value in extra.items() if key not in RESERVED_MEMBERS})
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


class ProblemError(Exception):
    """Raised by the API layer itself (auth, preconditions) to answer a problem."""

    def __init__(
        self,
        code: str,
        *,
        status: int | None = None,
        detail: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError("unauthenticated", detail=detail, headers={"WWW-Authenticate": 'Bearer realm="tic"'})


def _loc(loc: tuple[str | int, ...] | list[str | int]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        items.append(
            {
                "loc": _loc(error.get("loc", ())),
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "value_error")),
            }
        )
    return items


# --- the table: exception type -> (code, status override, extra fields, detail) ---------------------------------

Mapper = Callable[[Any, bool], tuple[str, dict[str, Any], str | None]]


def _invalid_transition(exc: InvalidTransition, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    detail = (
        f"当前状态 {exc.current} 不允许操作 {exc.action}"
        if zh
        else f"Action '{exc.action}' is not allowed in state '{exc.current}'."
    )
    return (
        "invalid-transition",
        {"current_status": exc.current, "action": exc.action, "allowed_actions": list(exc.allowed)},
        detail,
    )


def _blocked(exc: ActionBlocked, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    """A refused lifecycle action. Whatever the code, `blocked_by` is exactly what `GET …/actions` lists for the action
    and `allowed_actions` what the caller may do instead; the code says which kind of refusal it is (api.md)."""
    blockers = [dict(b) for b in exc.blockers]
    common: dict[str, Any] = {
        "current_status": exc.current,
        "action": exc.action,
        "allowed_actions": list(exc.allowed),
        "blocked_by": blockers,
    }
    detail = "；".join(b["message_zh"] for b in blockers) if zh else " ".join(b["message_en"] for b in blockers)
    if exc.table:
        return "invalid-transition", common, detail
    codes = {b["code"] for b in blockers}
    if codes == {"eligibility-rule-failed"}:
        checks = [{k: v for k, v in b.items() if k != "code"} for b in blockers]
        return "ineligible", {**common, "checks": checks}, detail
    if "conflict-of-interest" in codes:
        first = next(b for b in blockers if b["code"] == "conflict-of-interest")
        extra = {key: first.get(key) for key in ("expert_id", "org_id", "cause")}
        return "conflict-of-interest", {**common, **extra}, detail
    first_data = {k: v for k, v in blockers[0].items() if k not in ("code", "message_zh", "message_en")}
    return (
        "rule-violation",
        {**first_data, **common, "rule": blockers[0]["code"], "failed_conditions": blockers},
        detail,
    )


def _ineligible(exc: Ineligible, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    rules = ", ".join(str(check.get("rule")) for check in exc.checks)
    detail = f"不满足的建设条件：{rules}" if zh else f"Failing eligibility rules: {rules}."
    return "ineligible", {"checks": list(exc.checks)}, detail


def _conflict(exc: ConflictOfInterest, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    if zh:
        relation = "隶属关系" if exc.cause == "affiliation" else "利益冲突"
        detail = f"专家 {exc.expert_id} 与单位 {exc.org_id} 存在{relation}，须回避。"
    else:
        detail = f"Expert {exc.expert_id} must recuse: {exc.cause.replace('_', ' ')} with organization {exc.org_id}."
    return "conflict-of-interest", {"expert_id": exc.expert_id, "org_id": exc.org_id, "cause": exc.cause}, detail


def _rule(exc: RuleViolation, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    return "rule-violation", {"rule": exc.code, **exc.data}, exc.message_zh if zh else exc.message_en


def _not_found(exc: NotFound, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    return "not-found", {}, None


def _exists(exc: AlreadyExists, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    detail = (
        f"{exc.field} 为 {exc.value} 的{exc.resource}已存在"
        if zh
        else f"A {exc.resource} with {exc.field} {exc.value!r} already exists."
    )
    return "already-exists", {"field": exc.field}, detail


def _version(exc: VersionMismatch, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    return "version-mismatch", {"current_version": exc.actual}, None


def _reused(exc: IdempotencyKeyReused, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    # Every 422 carries `errors` (api.md), so clients read one shape whichever 422 they get.
    error = {"loc": ["header", "Idempotency-Key"], "msg": "used with a different request", "type": "key_reused"}
    return "idempotency-key-reused", {"errors": [error]}, None


def _invalid_input(exc: InvalidInput | InvalidReference, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    return "validation-failed", {"errors": [{"loc": _loc(exc.loc), "msg": exc.msg, "type": exc.type}]}, None


def _calendar(exc: CalendarNotCovered, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    # A 422 like any other bad date (it carries `errors` with the field), under a code of its own.
    error = {"loc": _loc(exc.loc), "msg": str(exc), "type": "calendar_unavailable"}
    detail = f"{exc.year} 年的工作日历尚未收录" if zh else f"The working-day calendar for {exc.year} is not available."
    return "calendar-unavailable", {"year": exc.year, "errors": [error]}, detail


def _validation_failed(exc: ValidationFailed, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    items = [{"loc": _loc(loc), "msg": msg, "type": kind} for loc, msg, kind in exc.errors]
    return "validation-failed", {"errors": items}, None


def _attachment(exc: AttachmentRefused, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    # Every 422 carries `errors` (api.md): the refused file is the form field `file`.
    errors = {"errors": [{"loc": ["body", "file"], "msg": exc.msg, "type": exc.code}]}
    return exc.code, {**exc.data, **(errors if CATALOGUE[exc.code].status == 422 else {})}, None


def _stale(exc: StaleDataError, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    return "version-mismatch", {}, None


def _integrity(exc: IntegrityError, zh: bool) -> tuple[str, dict[str, Any], str | None]:
    return "conflict", {}, None


def _is_data_exception(exc: BaseException) -> bool:
    """PostgreSQL's data exceptions (SQLSTATE class 22): a NUL character in text or JSON, a number out of range.
    JSON Schema allows such values, so they reach the database; they are the request's fault, not the server's."""
    return isinstance(exc, DBAPIError) and (_sqlstate(exc) or "").startswith("22")


UNSTORABLE = {
    "loc": ["body"],
    "msg": "a value the database cannot store, such as a NUL character",
    "type": "unstorable",
}


TABLE: dict[type[Exception], Mapper] = {
    ActionBlocked: _blocked,
    InvalidTransition: _invalid_transition,
    Ineligible: _ineligible,
    ConflictOfInterest: _conflict,
    RuleViolation: _rule,
    NotFound: _not_found,
    AlreadyExists: _exists,
    VersionMismatch: _version,
    IdempotencyKeyReused: _reused,
    InvalidInput: _invalid_input,
    InvalidReference: _invalid_input,
    CalendarNotCovered: _calendar,
    ValidationFailed: _validation_failed,
    AttachmentRefused: _attachment,
    StaleDataError: _stale,
    IntegrityError: _integrity,
}

# Database outages answer 503 so clients retry; they never leak driver text.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)


# SQLSTATEs that say the database cannot serve now, whatever the request: connection exceptions (08), insufficient
# resources (53), operator intervention (57P: shut down, restarting, database dropped), database does not exist.
UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "3D000")


def _sqlstate(exc: BaseException) -> str | None:
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, UNAVAILABLE):
        return True
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or (_sqlstate(exc) or "").startswith(UNAVAILABLE_SQLSTATES)
    ):
        return True
    name = type(exc).__name__
    return name in {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "TooManyConnectionsError",
        "QueryCanceledError",
    } or (exc.__cause__ is not None and exc.__cause__ is not exc and _is_unavailable(exc.__cause__))


def mapped_problem(request: Request | None, exc: BaseException) -> JSONResponse | None:
    """The problem for a known exception, or None when it is unexpected."""
    zh = prefers_chinese(request.headers.get("accept-language") if request else None)
    if isinstance(exc, ProblemError):
        return problem_response(
            request, exc.code, status=exc.status, detail=exc.detail, extra=exc.extra, headers=exc.headers
        )
    for exc_type in type(exc).__mro__:
        mapper = TABLE.get(exc_type)
        if mapper is not None:
            code, extra, detail = mapper(exc, zh)
            return problem_response(request, code, extra=extra, detail=detail)
    if _is_data_exception(exc):
        return problem_response(request, "validation-failed", extra={"errors": [UNSTORABLE]})
    if _is_unavailable(exc):
        return problem_response(request, "database-unavailable", headers={"Retry-After": "5"})
    return None


async def _handle_known(request: Request, exc: Exception) -> JSONResponse:
    response = mapped_problem(request, exc)
    if response is None:  # pragma: no cover - only registered for mapped types
        raise exc
    return response


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(request, "validation-failed", extra={"errors": _validation_items(exc)})


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return problem_response(request, "not-found", headers=headers)
    if exc.status_code == 405:
        return problem_response(request, "method-not-allowed", headers=headers)
    if exc.status_code == 413:
        return problem_response(request, "payload-too-large", headers=headers)
    if exc.status_code == 401:
        return problem_response(request, "unauthenticated", headers={"WWW-Authenticate": "Bearer", **headers})
    if exc.status_code == 400:
        return problem_response(
            request,
            "validation-failed",
            detail=str(exc.detail),
            extra={"errors": [{"loc": ["body"], "msg": str(exc.detail), "type": "bad_request"}]},
        )
    return problem_response(request, "http-error", status=exc.status_code, detail=str(exc.detail), headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(ProblemError, _handle_known)
    for exc_type in TABLE:
        app.add_exception_handler(exc_type, _handle_known)


def responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the problems a route can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in ("unauthenticated", "validation-failed", *codes):
        entry = CATALOGUE[code]
        model = ValidationProblem if entry.status == 422 else ProblemDetail
        existing = out.get(entry.status)
        description = entry.title_en if existing is None else f"{existing['description']}; {entry.title_en}"
        schema = {"$ref": f"#/components/schemas/{model.__name__}"}
        out[entry.status] = {
            "model": model,
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        }
    return out
