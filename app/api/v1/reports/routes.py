"""Statistics and exports with Chinese column headers (CSV with a UTF-8 BOM, or XLSX)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.dates import ReportYear
from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.problems import responses
from app.domain import reference
from app.domain.principal import Principal
from app.services import reports as service
from app.services.clock import Clock

router = APIRouter(tags=["statistics and exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Count(BaseModel):
    key: str | None
    count: int


class Stats(BaseModel):
    group_by: str
    total: int
    items: list[Count]


def _stats(group_by: str, rows: list[tuple[Any, int]]) -> Stats:
    items = [Count(key=None if key is None else str(key), count=count) for key, count in rows]
    return Stats(group_by=group_by, total=sum(c.count for c in items), items=items)


# Not pages: one count per group (a field, status or grade code, a call, or the region of a lead), counted in SQL.
@router.get("/stats/centers", operation_id="get_center_stats", response_model=Stats, responses=responses())
async def get_center_stats(
    session: SessionDep,
    principal: PrincipalDep,
    group_by: Annotated[Literal["field", "region", "status", "grade"], Query()],
) -> Stats:
    """Counts of centers within the caller's reach, grouped by field, region (of the lead), status or grade."""
    return _stats(group_by, await service.center_counts(session, principal, group_by))


@router.get("/stats/applications", operation_id="get_application_stats", response_model=Stats, responses=responses())
async def get_application_stats(
    session: SessionDep, principal: PrincipalDep, group_by: Annotated[Literal["status", "field", "call_id"], Query()]
) -> Stats:
    """Counts of applications within the caller's reach."""
    return _stats(group_by, await service.application_counts(session, principal, group_by))


class FigureTotals(BaseModel):
    reports: int
    centers: int
    rd_spend: str
    tech_transfer_income: str
    platform_income: str
    rd_staff: int
    staff_total: int
    invention_patents_filed: int
    invention_patents_granted: int
    pct_filings: int
    standards_led: int
    projects: int
    incubated_enterprises: int
    served_enterprises: int
    shared_equipment_hours: int


class FigureGroup(FigureTotals):
    key: str | None


class FigureStats(BaseModel):
    group_by: str
    year: int | None
    status: str | None
    items: list[FigureGroup]
    totals: FigureTotals


_STATUS_PATTERN = "^(" + "|".join(code.code for code in reference.CENTER_STATUSES) + ")$"


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: f"{value:.2f}" if isinstance(value, Decimal) else None if value is None else int(value)
        for name, value in row.items()
        if name not in ("key", "total")
    }


# Not a page: one row per group (a field code, a region, a year), summed in SQL, and the totals row.
@router.get("/stats/figures", operation_id="get_figure_stats", response_model=FigureStats, responses=responses())
async def get_figure_stats(
    session: SessionDep,
    principal: PrincipalDep,
    group_by: Annotated[Literal["field", "region", "year"], Query()] = "field",
    year: Annotated[ReportYear | None, Query(description="The reports' period_year.")] = None,
    status: Annotated[
        str | None, Query(pattern=_STATUS_PATTERN, description="Only centers in this status now, e.g. recognized.")
    ] = None,
) -> FigureStats:
    """The structured figures of accepted annual reports within the caller's reach, summed per field, region (of
    the lead) or year, and in total: money in 万元 as exact decimal strings, counts as integers, `projects` the
    number of projects listed; `reports` and `centers` count what was summed. Reports without figures are not
    counted. "Total R&D spend of recognized centers in 2025" is `?year=2025&status=recognized` → `totals.rd_spend`."""
    rows = await service.figure_sums(session, principal, group_by=group_by, year=year, status=status)
    items = [
        FigureGroup(key=None if r["key"] is None else str(r["key"]), **_figures(r)) for r in rows if not r["total"]
    ]
    total = next((r for r in rows if r["total"]), None)
    empty = dict.fromkeys(FigureTotals.model_fields, 0) | dict.fromkeys(
        ("rd_spend", "tech_transfer_income", "platform_income"), "0.00"
    )
    totals = FigureTotals(**(_figures(total) if total else empty))
    return FigureStats(group_by=group_by, year=year, status=status, items=items, totals=totals)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else value


async def _csv(header: Sequence[str], rows: AsyncGenerator[list[Any]]) -> AsyncIterator[bytes]:
    # A BOM first, so spreadsheet programs open UTF-8 Chinese text correctly.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    async with aclosing(rows):  # ends the export's transaction now, also when the client goes away mid-stream
        async for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_cell(v) for v in row])
            yield buffer.getvalue().encode("utf-8")


async def _xlsx(header: Sequence[str], rows: AsyncGenerator[list[Any]], title: str) -> AsyncIterator[bytes]:
    from openpyxl import Workbook  # a well-kept writer; write_only keeps memory flat
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def xlsx_cell(value: Any) -> Any:
        value = _cell(value)
        if not isinstance(value, str):
            return value
        # A name may hold control characters that XLSX cannot (openpyxl would fail mid-stream), and text stays text:
        # a name starting with "=" is not a formula.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        return cell

    sheet.append(list(header))
    async with aclosing(rows):  # ends the export's transaction now, also when a row cannot be written
        async for row in rows:
            sheet.append([xlsx_cell(v) for v in row])
    out = io.BytesIO()
    # Zipping the workbook is CPU work that grows with the rows: a worker thread keeps the event loop free meanwhile.
    await asyncio.to_thread(workbook.save, out)
    yield out.getvalue()


def export_filename(kind: str, extension: str, clock: Clock) -> str:
    """`centers-2027-01-31.csv`: dated on the programme's calendar (Asia/Shanghai), not the server's or UTC, so an
    export taken at 07:30 Beijing time is named after that Beijing day."""
    return f"{kind}-{clock.today().isoformat()}.{extension}"


def _export(
    request: Request,
    principal: Principal,
    kind: str,
    header: Sequence[str],
    rows: Callable[[AsyncSession, Principal], AsyncIterator[list[Any]]],
    format: str,
    clock: Clock,
) -> StreamingResponse:
    service.check_exporter(principal)

    async def streamed() -> AsyncGenerator[list[Any]]:
        # The export reads in its own transaction, for as long as the client downloads, 500 rows at a time.
        async with request.app.state.sessionmaker() as session, session.begin():
            async for row in rows(session, principal):
                yield row

    disposition = {"Content-Disposition": f'attachment; filename="{export_filename(kind, format, clock)}"'}
    if format == "xlsx":
        return StreamingResponse(_xlsx(header, streamed(), kind), media_type=XLSX, headers=disposition)
    return StreamingResponse(_csv(header, streamed()), media_type="text/csv; charset=utf-8", headers=disposition)


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The spreadsheet"},
    **responses("not-found"),
}


# Exports are the one answer that is the whole reachable set, by purpose: streamed 500 rows at a time from their own
# transaction, with the XLSX workbook zipped in a worker thread (see `_xlsx`).
@router.get(
    "/exports/centers", operation_id="export_centers", response_class=StreamingResponse, responses=EXPORT_RESPONSES
)
async def export_centers(
    request: Request,
    principal: PrincipalDep,
    clock: ClockDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> StreamingResponse:
    """Centers within the caller's reach as a spreadsheet with Chinese column headers, streamed."""
    return _export(request, principal, "centers", service.CENTER_COLUMNS, service.center_rows, format, clock)


@router.get(
    "/exports/applications",
    operation_id="export_applications",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_applications(
    request: Request,
    principal: PrincipalDep,
    clock: ClockDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> StreamingResponse:
    """Applications within the caller's reach as a spreadsheet with Chinese column headers, streamed."""
    return _export(
        request, principal, "applications", service.APPLICATION_COLUMNS, service.application_rows, format, clock
    )


@router.get(
    "/exports/annual-figures",
    operation_id="export_annual_figures",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_annual_figures(
    request: Request,
    principal: PrincipalDep,
    clock: ClockDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> StreamingResponse:
    """The structured figures of every accepted annual report within the caller's reach, one row per center and
    year (money in 万元 with 2 decimals; projects counted by level with their amounts summed), streamed."""
    return _export(request, principal, "annual-figures", service.FIGURE_COLUMNS, service.figure_rows, format, clock)
