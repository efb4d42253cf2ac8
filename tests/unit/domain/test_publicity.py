"""公示 and 异议 rules (issue 16 §3) at their edges: the start window, the period over National Day 2026 and its make-up
days (the official arrangement as the `chinesecalendar` data has it: 1–7 October off, Sunday 20 September and Saturday
10 October worked), the status on each side of the period, the guard of approve/recognize and the objection dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain import publicity as rules
from app.domain.errors import RuleViolation
from app.domain.publicity import NoticeFact

TODAY = date(2026, 9, 10)


@pytest.mark.parametrize(
    ("starts_on", "expected"),
    [
        (TODAY - timedelta(days=31), "a notice starts at most 30 days before today"),
        (date(2026, 8, 11), None),  # a Tuesday, exactly 30 days before
        (date(2026, 11, 9), None),  # a Monday, exactly 60 days after
        (TODAY + timedelta(days=61), "a notice starts at most 60 days after today"),
        (date(2026, 9, 12), "a notice starts on a working day (not a weekend or an official holiday)"),  # Saturday
        (date(2026, 10, 1), "a notice starts on a working day (not a weekend or an official holiday)"),  # National Day
        (date(2026, 9, 20), None),  # a Sunday worked in lieu (调休) before National Day
        (date(2026, 10, 10), None),  # a Saturday worked in lieu after it
    ],
)
def test_a_notice_starts_on_a_working_day_in_a_sensible_window(starts_on: date, expected: str | None) -> None:
    assert rules.start_problem(starts_on, TODAY) == expected


def test_a_start_in_a_year_the_calendar_does_not_cover_is_a_clear_error() -> None:
    with pytest.raises(rules.CalendarNotCovered) as refused:
        rules.start_problem(date(2027, 1, 4), date(2026, 12, 3))
    assert (refused.value.year, refused.value.loc) == (2027, ("body", "starts_on"))
    assert str(refused.value) == "the official working-day calendar for 2027 is not available"
    # Starting in a covered year but running into an uncovered one.
    with pytest.raises(rules.CalendarNotCovered) as ran_over:
        rules.ends_on(date(2026, 12, 28), 5)
    assert (ran_over.value.year, ran_over.value.loc) == (2027, ("body", "starts_on"))


@pytest.mark.parametrize(
    ("starts_on", "days", "ends_on"),
    [
        # Tue 29, Wed 30 Sep; 1–7 Oct off; Thu 8, Fri 9, Sat 10 Oct (make-up day): five working days.
        (date(2026, 9, 29), 5, date(2026, 10, 10)),
        (date(2026, 9, 29), 4, date(2026, 10, 9)),
        (date(2026, 9, 29), 6, date(2026, 10, 12)),  # Sunday 11 Oct is off
        (date(2026, 9, 30), 1, date(2026, 9, 30)),
        (date(2026, 9, 30), 2, date(2026, 10, 8)),
        # Fri 18 Sep, then Sunday 20 Sep worked in lieu, Mon 21 to Thu 24.
        (date(2026, 9, 18), 5, date(2026, 9, 23)),
        (date(2026, 8, 10), 30, date(2026, 9, 18)),
        (date(2026, 8, 11), 30, date(2026, 9, 20)),  # the 30th working day is the make-up Sunday
    ],
)
def test_a_notice_ends_on_its_last_working_day(starts_on: date, days: int, ends_on: date) -> None:
    assert rules.ends_on(starts_on, days) == ends_on


@pytest.mark.parametrize("days", [0, 31])
def test_a_notice_length_out_of_bounds_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 30 working days"):
        rules.ends_on(date(2026, 9, 29), days)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 9, 28), "scheduled"),
        (date(2026, 9, 29), "running"),
        (date(2026, 10, 4), "running"),
        (date(2026, 10, 10), "running"),
        (date(2026, 10, 11), "ended"),
    ],
)
def test_a_notice_is_scheduled_running_or_ended_by_the_clock(today: date, status: str) -> None:
    assert rules.notice_status(date(2026, 9, 29), date(2026, 10, 10), today) == status


ENDS = date(2026, 10, 10)


def guard(notices: tuple[NoticeFact, ...], today: date = date(2026, 10, 11), kind: str = "approval") -> list[dict]:
    return [b.as_dict() for b in rules.publicity_blockers(kind, notices, today)]


def test_without_a_notice_the_subject_waits_for_one() -> None:
    assert guard(()) == [
        {
            "code": "publicity-missing",
            "message_zh": "尚未列入拟支持名单进行公示",
            "message_en": "No approval notice (公示) lists this subject yet.",
            "kind": "approval",
        }
    ]
    assert guard((), kind="recognition")[0]["message_zh"] == "尚未列入拟认定名单进行公示"


@pytest.mark.parametrize(("today", "codes"), [(ENDS, ["publicity-running"]), (ENDS + timedelta(days=1), [])])
def test_the_notice_must_have_ended(today: date, codes: list[str]) -> None:
    found = guard((NoticeFact("n1", ENDS),), today)
    assert [b["code"] for b in found] == codes
    if codes:
        assert found[0] == {
            "code": "publicity-running",
            "message_zh": "公示期至 2026-10-10 结束，期满后方可决定",
            "message_en": "The public notice runs until 2026-10-10; decide after it ends.",
            "notice_id": "n1",
            "ends_on": "2026-10-10",
        }


def test_the_latest_notice_decides_and_objections_of_every_notice_count() -> None:
    earlier = NoticeFact("n1", date(2026, 9, 1), open_objections=1)
    later = NoticeFact("n2", ENDS, upheld_objections=2)
    found = guard((earlier, later), ENDS)
    assert [(b["code"], b["notice_id"], b["ends_on"]) for b in found] == [
        ("publicity-running", "n2", "2026-10-10"),
        ("objection-unresolved", "n2", "2026-10-10"),
        ("objection-upheld", "n2", "2026-10-10"),
    ]
    assert found[1]["unresolved_count"] == 1
    assert found[1]["message_zh"] == "尚有 1 件异议未处理"
    assert found[1]["message_en"] == "1 objection(s) against this subject are not resolved yet."
    assert found[2]["upheld_count"] == 2
    assert found[2]["message_zh"] == "异议成立，不能批准或认定，可作出不予支持决定"
    # The order given does not matter, nor does a tie on the end date.
    assert guard((later, earlier), ENDS) == found
    tie = NoticeFact("n3", ENDS)
    assert rules.latest((tie, later)) == tie
    assert rules.latest((later, tie)) == tie
    assert rules.latest(()) is None


@pytest.mark.parametrize(
    ("decided", "expected"),
    [
        (ENDS, "the decision is dated after the public notice ended on 2026-10-10"),
        (ENDS + timedelta(days=1), None),
    ],
)
def test_a_decision_is_dated_after_the_notice(decided: date, expected: str | None) -> None:
    assert rules.decision_date_problem((NoticeFact("n1", ENDS),), decided) == expected
    assert rules.decision_date_problem((), decided) is None


@pytest.mark.parametrize(
    ("received", "inside"),
    [
        (date(2026, 9, 28), False),
        (date(2026, 9, 29), True),
        (date(2026, 10, 3), True),  # a holiday inside the period: a letter can still arrive
        (date(2026, 10, 10), True),
        (date(2026, 10, 11), False),
    ],
)
def test_an_objection_is_received_during_the_notice(received: date, inside: bool) -> None:
    if inside:
        rules.check_received_in_notice(received, date(2026, 9, 29), ENDS)
        return
    with pytest.raises(RuleViolation) as refused:
        rules.check_received_in_notice(received, date(2026, 9, 29), ENDS)
    assert refused.value.code == "objection-outside-notice"
    assert refused.value.data == {"starts_on": "2026-09-29", "ends_on": "2026-10-10"}
    assert refused.value.message_en == "An objection is received during the notice (2026-09-29 to 2026-10-10)."


def test_an_objection_is_not_received_after_today() -> None:
    assert rules.received_on_problem(TODAY, TODAY) is None
    assert rules.received_on_problem(TODAY + timedelta(days=1), TODAY) == (
        "an objection cannot have been received after today"
    )


@pytest.mark.parametrize(("status", "refused"), [("open", False), ("upheld", True), ("dismissed", True)])
def test_an_objection_is_resolved_once(status: str, refused: bool) -> None:
    if not refused:
        rules.resolve_problem(status)
        return
    with pytest.raises(RuleViolation) as error:
        rules.resolve_problem(status)
    assert (error.value.code, error.value.data) == ("objection-already-resolved", {"objection_status": status})


def test_the_tables_a_notice_is_built_from() -> None:
    assert rules.KINDS == ("approval", "recognition")
    assert rules.SUBJECT_STATUS == {"approval": "reviewed", "recognition": "accepted"}
    assert rules.ACTION == {"approval": "approve", "recognition": "recognize"}
    assert rules.SUBJECT_TYPE == {"approval": "application", "recognition": "center"}
    assert rules.NOTICE_STATUSES == ("scheduled", "running", "ended")
    assert rules.OBJECTION_STATUSES == ("open", "upheld", "dismissed")
    assert rules.OUTCOMES == ("upheld", "dismissed")
    assert (rules.DEFAULT_WORKING_DAYS, rules.MAX_SUBJECTS) == (5, 200)
    assert (rules.START_PAST_DAYS, rules.START_FUTURE_DAYS) == (30, 60)


def test_every_refusal_speaks_both_languages() -> None:
    upheld = guard((NoticeFact("n1", date(2026, 9, 1), upheld_objections=1),))
    assert upheld[0]["message_en"] == (
        "An objection was upheld: the subject cannot be approved or recognized (it may be rejected)."
    )
    with pytest.raises(RuleViolation) as outside:
        rules.check_received_in_notice(date(2026, 9, 1), date(2026, 9, 29), ENDS)
    assert outside.value.message_zh == "异议须在公示期内（2026-09-29 至 2026-10-10）提出"
    with pytest.raises(RuleViolation) as resolved:
        rules.resolve_problem("upheld")
    assert (resolved.value.message_zh, resolved.value.message_en) == (
        "该异议已处理",
        "This objection has already been resolved.",
    )
