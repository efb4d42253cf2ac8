"""The structured figures of an annual report (issue 17 §2); bounds come from app/domain/annual_figures.py."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from app.api.deps import JsonText
from app.api.v1.common import ProjectLevel, Strict
from app.domain import annual_figures as af

_MONEY = re.compile(r"^\d{1,8}(\.\d{1,2})?$")


def _money_text(value: Any) -> Any:
    if not isinstance(value, str) or not _MONEY.match(value):
        raise ValueError('amounts in 万元 are decimal strings with at most 2 decimals, such as "4000.00"')
    return value


# Money in 万元: a decimal string only (an integer or a float is refused), at most 2 decimals, 0 to MAX_WAN.
Money = Annotated[
    Decimal,
    JsonText,
    BeforeValidator(_money_text),
    Field(ge=0, le=af.MAX_WAN),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _MONEY.pattern,
            "description": f"万元 (10 000 yuan), a decimal string with at most 2 decimals, 0 to {af.MAX_WAN}.",
            "examples": ["4000.00"],
        }
    ),
]
# Counts are integers (strict: "3" and 3.0 are refused); their ceilings show in the schema as `maximum`.
Count = Annotated[int, Field(ge=0, le=af.MAX_COUNT)]
People = Annotated[int, Field(ge=0, le=af.MAX_STAFF)]
Hours = Annotated[int, Field(ge=0, le=af.MAX_HOURS)]


class Project(Strict):
    level: ProjectLevel = Field(description="national (国家级) or provincial (省级).")
    title: Annotated[str, Field(min_length=1, max_length=200)]
    amount: Money = Field(description="The project's funding. 万元.")


class AnnualFigures(Strict):
    """The year's figures, every one for the report's `period_year` alone (not cumulative). All are required but
    `projects`; they are replaced as a whole on PATCH. rd_staff may not exceed staff_total (422 on `rd_staff`)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "rd_spend": "5200.00",
                    "staff_total": 820,
                    "rd_staff": 150,
                    "invention_patents_filed": 18,
                    "invention_patents_granted": 6,
                    "pct_filings": 1,
                    "standards_led": 1,
                    "projects": [{"level": "national", "title": "重点研发计划课题", "amount": "800.00"}],
                    "incubated_enterprises": 2,
                    "served_enterprises": 35,
                    "tech_transfer_income": "310.50",
                    "platform_income": "120.00",
                    "shared_equipment_hours": 2400,
                }
            ]
        },
    )

    rd_spend: Money = Field(description="R&D spend of the year. 万元.")
    staff_total: People = Field(description="All staff at the year's end (people).")
    rd_staff: People = Field(description="R&D staff at the year's end (people), at most staff_total.")
    invention_patents_filed: Count = Field(description="Invention patent applications filed in the year.")
    invention_patents_granted: Count = Field(description="Invention patents granted in the year.")
    pct_filings: Count = Field(description="PCT international applications filed in the year.")
    standards_led: Count = Field(
        description="Standards (national, industry, group) the center led in the year. 0 to 100 000."
    )
    projects: Annotated[list[Project], Field(max_length=af.MAX_PROJECTS)] = Field(
        default_factory=list,
        description=f"National and provincial projects undertaken in the year, at most {af.MAX_PROJECTS}.",
    )
    incubated_enterprises: Count = Field(description="Enterprises incubated in the year.")
    served_enterprises: Count = Field(description="Enterprises served in the year.")
    tech_transfer_income: Money = Field(description="Technology-transfer income of the year. 万元.")
    platform_income: Money = Field(description="Platform service income of the year. 万元.")
    shared_equipment_hours: Hours = Field(
        description="Hours of shared use of large instruments in the year. 0 to 8 784 000."
    )
