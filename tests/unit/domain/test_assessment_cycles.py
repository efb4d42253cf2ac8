"""The assessment cycle as a lifecycle (domain.md §7): which centers a cycle takes, and when it may be finalized."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app.domain.assessment_cycles import (
    LIFECYCLE,
    CycleFacts,
    DueFacts,
    EntryFacts,
    Membership,
    Period,
    absence_error,
    cycle_facts,
    due_in,
)
from app.domain.errors import ActionBlocked
from app.domain.lifecycles import ASSESSMENT_CYCLE, MACHINES
from app.domain.principal import Principal

PROVINCE = Principal(sub="p", role="province")
AGENCY = Principal(sub="a", role="third_party", org_id=uuid.uuid4())


def test_the_cycle_lifecycle_is_published_with_the_other_machines() -> None:
    assert MACHINES["assessment_cycle"] is ASSESSMENT_CYCLE
    assert LIFECYCLE.machine_of(CycleFacts("open")) is ASSESSMENT_CYCLE


# --- periods and who is due ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "overlaps"),
    [
        pytest.param(2021, False, id="2021-2023 ends before 2024"),
        pytest.param(2022, True, id="2022-2024 shares 2024"),
        pytest.param(2024, True, id="the same period"),
        pytest.param(2025, True, id="2025-2027 shares 2025 and 2026"),
        pytest.param(2026, True, id="2026-2028 shares 2026"),
        pytest.param(2027, False, id="2027-2029 starts after 2026"),
    ],
)
def test_two_periods_overlap_when_they_share_a_year(start: int, overlaps: bool) -> None:
    assessed, other = Period(2024, 2026), Period(start, start + 2)
    assert assessed.overlaps(other) is overlaps
    assert other.overlaps(assessed) is overlaps


def recognized(on: date = date(2023, 6, 1), *cycles: Membership) -> DueFacts:
    """A center recognized `on` (by default mid-2023) that belongs to `cycles`."""
    return DueFacts(status="recognized", rectifying_kind=None, recognized_on=on, cycles=cycles)


FINALIZED_2024 = Membership(Period(2024, 2026), open=False)
ON = date(2023, 6, 1)


@pytest.mark.parametrize(
    ("period", "center", "due"),
    [
        pytest.param(Period(2025, 2027), recognized(ON, FINALIZED_2024), False, id="2024-26 then 2025-27"),
        pytest.param(Period(2026, 2028), recognized(ON, FINALIZED_2024), False, id="2024-26 then 2026-28"),
        pytest.param(Period(2027, 2029), recognized(ON, FINALIZED_2024), True, id="2024-26 then 2027-29"),
        pytest.param(
            Period(2025, 2027),
            recognized(ON, Membership(Period(2024, 2026), open=True)),
            False,
            id="an open overlapping cycle counts too",
        ),
        pytest.param(
            Period(2027, 2029),
            recognized(ON, Membership(Period(2024, 2026), open=True)),
            False,
            id="never in two open cycles at once",
        ),
        pytest.param(Period(2023, 2025), recognized(date(2024, 12, 31)), True, id="recognized a year before the end"),
        pytest.param(Period(2023, 2025), recognized(date(2025, 1, 1)), False, id="recognized in the last year"),
        pytest.param(
            Period(2026, 2028),
            DueFacts("rectifying", "assessment", date(2023, 6, 1), (Membership(Period(2023, 2025), open=False),)),
            True,
            id="rectifying after an assessment is graded again",
        ),
        pytest.param(
            Period(2026, 2028), DueFacts("rectifying", "acceptance", None), False, id="rectifying after an acceptance"
        ),
        pytest.param(Period(2026, 2028), DueFacts("under_construction", None, None), False, id="under construction"),
        pytest.param(Period(2026, 2028), DueFacts("revoked", None, date(2023, 6, 1)), False, id="revoked"),
        pytest.param(Period(2026, 2028), DueFacts("recognized", None, None), False, id="no recognition date"),
    ],
)
def test_a_center_is_due_only_when_no_cycle_of_its_own_overlaps_the_period(
    period: Period, center: DueFacts, due: bool
) -> None:
    assert due_in(period, center) is due


# --- finalize: the guard over facts -------------------------------------------------------------------------------


def entry(code: str, *, result: bool = True, status: str = "recognized", absent: bool = False) -> EntryFacts:
    return EntryFacts(center_id=f"id-{code}", code=code, center_status=status, has_result=result, absent=absent)


@pytest.mark.parametrize(
    ("entries", "declared", "missing"),
    [
        pytest.param([entry("A"), entry("B")], (), (), id="every live center has a result"),
        pytest.param([], (), (), id="a cycle without centers"),
        pytest.param([entry("A"), entry("B", result=False)], (), ("B",), id="one live center without a result"),
        pytest.param(
            [entry("A", result=False), entry("B", result=False, status="rectifying")],
            (),
            ("A", "B"),
            id="a rectifying center needs a result too",
        ),
        pytest.param([entry("A"), entry("B", result=False)], ("id-B",), (), id="declared absent by the request"),
        pytest.param([entry("A"), entry("B", result=False, absent=True)], (), (), id="already marked absent"),
        pytest.param([entry("A"), entry("B", result=False, status="revoked")], (), (), id="revoked during the cycle"),
        pytest.param([entry("A"), entry("B", result=False, status="exited")], (), (), id="exited during the cycle"),
    ],
)
def test_finalize_waits_only_for_live_centers_with_neither_a_result_nor_an_absence(
    entries: list[EntryFacts], declared: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    facts = cycle_facts("open", entries, declared)
    assert facts.missing_result_codes == missing
    blockers = LIFECYCLE.blockers("finalize", PROVINCE, facts)
    if missing:
        assert [(b.code, b.data["missing_codes"], b.data["missing_count"]) for b in blockers] == [
            ("results-missing", list(missing), len(missing))
        ]
        assert LIFECYCLE.allowed(PROVINCE, facts) == []
    else:
        assert blockers == []
        assert LIFECYCLE.allowed(PROVINCE, facts) == ["finalize"]


def test_a_refusal_carries_exactly_what_the_views_list() -> None:
    facts = cycle_facts("open", [entry("A"), entry("B", result=False)])
    [view] = LIFECYCLE.views(PROVINCE, facts)
    assert (view.action, view.allowed) == ("finalize", False)
    with pytest.raises(ActionBlocked) as caught:
        LIFECYCLE.check("finalize", PROVINCE, facts)
    assert list(caught.value.blockers) == [b.as_dict() for b in view.blocked_by]
    assert (caught.value.current, caught.value.allowed, caught.value.table) == ("open", [], False)


@pytest.mark.parametrize(
    ("actor", "status", "codes"),
    [
        pytest.param(AGENCY, "open", ["wrong-role"], id="the entrusted agency records results but does not finalize"),
        pytest.param(PROVINCE, "finalized", ["wrong-state"], id="a cycle is finalized once"),
    ],
)
def test_the_table_refuses_before_any_guard(actor: Principal, status: str, codes: list[str]) -> None:
    facts = cycle_facts(status, [entry("A", result=False)])
    assert [b.code for b in LIFECYCLE.blockers("finalize", actor, facts)] == codes
    with pytest.raises(ActionBlocked) as caught:
        LIFECYCLE.check("finalize", actor, facts)
    assert caught.value.table is True
    assert LIFECYCLE.allowed(actor, facts) == []


@pytest.mark.parametrize(
    ("member", "refused"),
    [
        pytest.param(entry("A", result=False), False, id="a live center without a result"),
        pytest.param(entry("A", status="rectifying"), False, id="a rectifying center"),
        pytest.param(entry("A", status="revoked"), True, id="a revoked center"),
        pytest.param(entry("A", status="exited"), True, id="an exited center"),
        pytest.param(None, True, id="not a center of the cycle"),
    ],
)
def test_only_a_live_center_of_the_cycle_can_be_declared_absent(member: EntryFacts | None, refused: bool) -> None:
    assert (absence_error(member) is not None) is refused
