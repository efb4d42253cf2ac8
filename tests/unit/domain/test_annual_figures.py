"""Annual-report figures: the cross-field rule and the stored values read back exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain import annual_figures as af
from app.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("rd_staff", "staff_total", "ok"),
    [(0, 0, True), (10, 10, True), (9, 10, True), (11, 10, False), (1, 0, False)],
)
def test_rd_staff_may_equal_but_not_exceed_staff_total(rd_staff: int, staff_total: int, ok: bool) -> None:
    errors = af.figures_errors({"rd_staff": rd_staff, "staff_total": staff_total})
    if ok:
        assert errors == []
    else:
        assert errors == [
            InvalidInput(
                ("body", "figures", "rd_staff"),
                f"rd_staff ({rd_staff}) cannot exceed staff_total ({staff_total})",
                "rd_staff_above_staff_total",
            )
        ]


def test_money_reads_back_exactly() -> None:
    assert af.money({"rd_spend": "0.10"}, "rd_spend") + af.money({"x": "0.20"}, "x") == Decimal("0.30")
    assert af.project_amount({"amount": "800.05"}) == Decimal("800.05")


def test_the_documented_ceilings() -> None:
    assert (
        Decimal("10000000"),
        1_000_000,
        100_000,
        8_784_000,
        500,
    ) == (af.MAX_WAN, af.MAX_STAFF, af.MAX_COUNT, af.MAX_HOURS, af.MAX_PROJECTS)
    assert af.MONEY_FIELDS == ("rd_spend", "tech_transfer_income", "platform_income")
    assert "staff_total" in af.COUNT_FIELDS
    assert len(af.COUNT_FIELDS) == 9
