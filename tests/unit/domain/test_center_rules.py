from __future__ import annotations

from datetime import date

import pytest

from app.domain.centers import acceptance_blockers, exit_blockers

INDEPENDENT = {"status": "independent", "kind": "enterprise", "credit_code": "91350100M000100Y43"}


@pytest.mark.parametrize(("after_failed_acceptance", "codes"), [(False, ["acceptance-too-early"]), (True, [])])
def test_the_acceptance_window_does_not_apply_after_a_failed_acceptance(
    after_failed_acceptance: bool, codes: list[str]
) -> None:
    blockers = acceptance_blockers(
        today=date(2025, 1, 1),
        construction_ends_on=date(2025, 11, 30),
        approved_on=date(2024, 6, 1),
        accepted_report_years={2024},
        legal_entity=INDEPENDENT,
        after_failed_acceptance=after_failed_acceptance,
    )
    assert [b.code for b in blockers] == codes


@pytest.mark.parametrize(
    ("action", "requested", "codes"),
    [
        ("request_exit", False, []),
        ("request_exit", True, ["exit-already-requested"]),
        ("exit", True, []),
        ("exit", False, ["exit-not-requested"]),
        ("revoke", False, []),
    ],
)
def test_exit_is_asked_once_and_approved_only_when_asked(action: str, requested: bool, codes: list[str]) -> None:
    assert [b.code for b in exit_blockers(action, exit_requested=requested)] == codes
