"""Structured figures of an annual report (issue 17 §2): what the lead reports for the year, in stated units.

Money is 万元 with at most 2 decimals; counts are integers; hours are hours. Every figure is non-negative and below
a documented ceiling: a value past it is a typing slip (an amount in 元 instead of 万元, a phone number in a count),
not data, and is refused like any other bad input. The API schema takes its bounds from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from app.domain.errors import InvalidInput

# 万元. 10 000 000 万元 is 1 000 亿元, more than any provincial center spends or earns in a year.
MAX_WAN: Final = Decimal("10000000")
# People: the largest Henan enterprise groups employ a few hundred thousand.
MAX_STAFF: Final = 1_000_000
# Patents, PCT filings, standards, enterprises in one year.
MAX_COUNT: Final = 100_000
# Shared-equipment hours in one year: 8 784 hours (a leap year) on each of 1 000 instruments at most.
MAX_HOURS: Final = 8_784_000
# Projects listed in one year's report.
MAX_PROJECTS: Final = 500

MONEY_FIELDS: Final = ("rd_spend", "tech_transfer_income", "platform_income")
COUNT_FIELDS: Final = (
    "rd_staff",
    "staff_total",
    "invention_patents_filed",
    "invention_patents_granted",
    "pct_filings",
    "standards_led",
    "incubated_enterprises",
    "served_enterprises",
    "shared_equipment_hours",
)
PROJECT_LEVELS: Final = ("national", "provincial")


def figures_errors(figures: Mapping[str, Any]) -> list[InvalidInput]:
    """What the field-by-field schema cannot say: R&D staff are part of the staff, so rd_staff ≤ staff_total
    (equal passes). Empty when the figures hold together."""
    if figures["rd_staff"] > figures["staff_total"]:
        return [
            InvalidInput(
                ("body", "figures", "rd_staff"),
                f"rd_staff ({figures['rd_staff']}) cannot exceed staff_total ({figures['staff_total']})",
                "rd_staff_above_staff_total",
            )
        ]
    return []


def money(figures: Mapping[str, Any], name: str) -> Decimal:
    """A money figure (万元) read back from its stored decimal string."""
    return Decimal(str(figures[name]))


def project_amount(project: Mapping[str, Any]) -> Decimal:
    return Decimal(str(project["amount"]))
