"""The lifecycle tables match domain.md §4 and §6, and every (state, action, role) is decided as the table says."""

from __future__ import annotations

import pytest

from app.domain import lifecycles
from app.domain.errors import InvalidTransition
from app.domain.lifecycles import (
    ANNUAL_REPORT,
    APPLICATION,
    APPLICATION_FAST_TRACK,
    ASSESSMENT_CYCLE,
    CALL,
    CENTER,
    CHANGE_REQUEST,
    MACHINES,
    StateMachine,
    Transition,
)
from app.domain.reference import ROLES, codes

ALL_ROLES = codes(ROLES)
LIVE = ("approved", "under_construction", "acceptance_pending", "accepted", "recognized", "rectifying")

# The expected tables, written out from the spec independently of the code: (action, from, to, roles).
Row = tuple[str, str, tuple[str, ...], frozenset[str]]


def _r(action: str, source: str, targets: str | tuple[str, ...], *roles: str) -> Row:
    return (action, source, (targets,) if isinstance(targets, str) else targets, frozenset(roles))


_APPLICATION_COMMON: list[Row] = [
    _r("withdraw", "draft", "withdrawn", "applicant"),
    _r("withdraw", "returned", "withdrawn", "applicant"),
    _r("withdraw", "submitted", "withdrawn", "applicant"),
    _r("withdraw", "revising", "withdrawn", "applicant"),
    _r("withdraw", "incomplete", "withdrawn", "applicant"),
    # The province takes the supervisor's steps for a lead without a supervising department (domain.md §6).
    _r("return", "submitted", "returned", "supervisor", "province"),
    _r("reject", "submitted", "not_recommended", "supervisor", "province"),
    _r("recommend", "submitted", "recommended", "supervisor", "province"),
    # Formal review (issue 16 §2): material missing → incomplete, applied by the formal review itself.
    _r("return_incomplete", "recommended", "incomplete", "province"),
    _r("open_review", "recommended", "under_review", "province"),
    _r("open_review", "reviewed", "under_review", "province"),
    _r("conclude_review", "under_review", "reviewed", "province"),
    _r("request_revision", "reviewed", "revising", "province"),
    _r("resubmit", "revising", "reviewed", "applicant"),
    _r("approve", "reviewed", "approved", "province"),
    _r("reject", "reviewed", "rejected", "province"),
]

SPEC: dict[str, list[Row]] = {
    "call": [
        _r("publish", "draft", "published", "province"),
        _r("close", "published", "closed", "province"),
    ],
    "application": [
        _r("submit", "draft", "submitted", "applicant"),
        _r("submit", "returned", "submitted", "applicant"),
        # Completed material goes straight back to the province's formal review.
        _r("submit", "incomplete", "recommended", "applicant"),
        *_APPLICATION_COMMON,
    ],
    "application_fast_track": [
        _r("submit", "draft", "recommended", "applicant", "province"),
        _r("submit", "returned", "recommended", "applicant", "province"),
        _r("submit", "incomplete", "recommended", "applicant", "province"),
        *_APPLICATION_COMMON,
    ],
    "center": [
        _r("sign_task_book", "approved", "under_construction", "province"),
        _r("request_extension", "under_construction", "under_construction", "applicant"),
        _r("extend", "under_construction", "under_construction", "province"),
        _r("decline_extension", "under_construction", "under_construction", "province"),
        _r("request_acceptance", "under_construction", "acceptance_pending", "applicant"),
        _r("request_acceptance", "rectifying", "acceptance_pending", "applicant"),
        _r(
            "record_acceptance",
            "acceptance_pending",
            ("accepted", "rectifying", "revoked"),
            "province",
            "third_party",
        ),
        _r("recognize", "accepted", "recognized", "province"),
        _r("record_rectification_review", "rectifying", ("recognized", "revoked"), "province", "third_party"),
        _r("record_assessment", "recognized", ("recognized", "rectifying", "revoked"), "province"),
        # Graded again while rectifying after an assessment: qualified or better recovers, unqualified revokes.
        _r("record_assessment", "rectifying", ("recognized", "rectifying", "revoked"), "province"),
        *(_r("revoke", state, "revoked", "province") for state in LIVE),
        *(_r("request_exit", state, state, "applicant") for state in LIVE),
        *(_r("exit", state, "exited", "province") for state in LIVE),
        *(_r("decline_exit", state, state, "province") for state in LIVE),
        *(_r("withdraw_exit", state, state, "applicant") for state in LIVE),
    ],
    "annual_report": [
        _r("submit", "draft", "submitted", "applicant"),
        _r("endorse", "submitted", "endorsed", "supervisor", "province"),
        _r("accept", "endorsed", "accepted", "province"),
        _r("return", "submitted", "returned", "supervisor", "province"),
        _r("return", "endorsed", "returned", "province"),
        _r("submit", "returned", "submitted", "applicant"),
    ],
    "change_request": [
        _r("endorse", "filed", "endorsed", "supervisor", "province"),
        _r("approve", "endorsed", "approved", "province"),
        _r("reject", "filed", "rejected", "supervisor", "province"),
        _r("reject", "endorsed", "rejected", "province"),
    ],
    "assessment_cycle": [
        _r("finalize", "open", "finalized", "province"),
    ],
}

TERMINAL: dict[str, set[str]] = {
    "call": {"closed"},
    "application": {"not_recommended", "withdrawn", "approved", "rejected"},
    "application_fast_track": {"not_recommended", "withdrawn", "approved", "rejected"},
    "center": {"revoked", "exited"},
    "annual_report": {"accepted"},
    "change_request": {"approved", "rejected"},
    "assessment_cycle": {"finalized"},
}


def _rows(machine: StateMachine) -> set[Row]:
    return {(t.action, t.source, t.targets, t.roles) for t in machine.transitions}


ALLOWED_CASES = [
    pytest.param(name, action, source, role, target, id=f"{name}:{source}-{action}({role})->{target}")
    for name, rows in SPEC.items()
    for action, source, targets, roles in rows
    for role in sorted(roles)
    for target in targets
]


# The refusal tables are checked a machine per test, every case of the machine in the test: as one test per case they
# were ~770 tests that each ran `decide`, and in `make mutation` every mutant of `decide` or `allowed_actions` reran
# (and pytest re-collected) all of them. A failure lists every case that went wrong, not only the first.
def _wrong_role_cases(name: str) -> list[tuple[str, str, str]]:
    """(action, source, role) for every row of the machine and every role the row does not name."""
    return [
        (action, source, role)
        for action, source, _targets, roles in SPEC[name]
        for role in ALL_ROLES
        if role not in roles
    ]


def _absent_cases(name: str) -> list[tuple[str, str]]:
    """(state, action) for every state of the machine and every action of the machine with no row from that state."""
    rows = SPEC[name]
    return [
        (state, action)
        for state in MACHINES[name].states
        for action in dict.fromkeys(row[0] for row in rows)
        if not any(row[0] == action and row[1] == state for row in rows)
    ]


def _refusal_mistakes(name: str, source: str, action: str, role: str) -> list[str]:
    """What is wrong with `decide` refusing `action` from `source` to `role`: nothing, or one line saying what."""
    case = f"{source}-{action}({role})"
    try:
        MACHINES[name].decide(source, action, role)
    except InvalidTransition as refused:
        got = (refused.current, refused.action, list(refused.allowed))
        want = (source, action, _expected_allowed(name, source, role))
        return [] if got == want else [f"{case}: refused with {got}, expected {want}"]
    return [f"{case}: allowed"]


TERMINAL_CASES = [
    pytest.param(name, state, id=f"{name}:{state}") for name, states in TERMINAL.items() for state in sorted(states)
]


def _expected_allowed(name: str, state: str, role: str) -> list[str]:
    return list(dict.fromkeys(a for a, s, _t, roles in SPEC[name] if s == state and role in roles))


def test_the_registry_holds_every_machine_under_its_own_name() -> None:
    assert set(MACHINES) == set(SPEC)
    assert all(machine.name == name for name, machine in MACHINES.items())
    assert MACHINES["center"] is CENTER


@pytest.mark.parametrize("name", sorted(SPEC))
def test_each_machine_has_exactly_the_transitions_of_the_spec(name: str) -> None:
    machine = MACHINES[name]
    assert _rows(machine) == set(SPEC[name])
    assert len(machine.transitions) == len(SPEC[name])


@pytest.mark.parametrize("name", sorted(SPEC))
def test_each_machine_has_the_terminal_states_of_the_spec(name: str) -> None:
    assert set(MACHINES[name].terminal) == TERMINAL[name]


@pytest.mark.parametrize(("name", "action", "source", "role", "target"), ALLOWED_CASES)
def test_an_allowed_role_reaches_the_tables_target(name: str, action: str, source: str, role: str, target: str) -> None:
    machine = MACHINES[name]
    assert machine.decide(source, action, role, target) == target
    assert action in machine.allowed_actions(source, role)


@pytest.mark.parametrize(("name", "action", "source", "role", "target"), ALLOWED_CASES)
def test_the_target_may_be_omitted_only_when_the_row_has_one(
    name: str, action: str, source: str, role: str, target: str
) -> None:
    machine = MACHINES[name]
    row = machine.find(source, action)
    assert row is not None
    if len(row.targets) == 1:
        assert machine.decide(source, action, role) == target
    else:
        with pytest.raises(InvalidTransition):
            machine.decide(source, action, role)


def test_every_machine_has_rows_some_roles_may_not_use() -> None:
    # The loops below are not empty: every machine has rows some role may not use, and states without some action.
    assert all(_wrong_role_cases(name) for name in SPEC)
    assert all(_absent_cases(name) for name in SPEC)


@pytest.mark.parametrize("name", sorted(SPEC))
def test_any_other_role_is_refused_with_its_own_allowed_actions(name: str) -> None:
    mistakes = [
        mistake
        for action, source, role in _wrong_role_cases(name)
        for mistake in _refusal_mistakes(name, source, action, role)
    ]
    assert mistakes == []


@pytest.mark.parametrize("name", sorted(SPEC))
def test_an_action_without_a_row_from_the_state_is_refused_for_every_role(name: str) -> None:
    machine = MACHINES[name]
    absent = _absent_cases(name)
    assert [(state, action) for state, action in absent if machine.find(state, action) is not None] == []
    mistakes = [
        mistake
        for state, action in absent
        for role in ALL_ROLES
        for mistake in _refusal_mistakes(name, state, action, role)
    ]
    assert mistakes == []


@pytest.mark.parametrize(("name", "state"), TERMINAL_CASES)
def test_a_terminal_state_allows_nothing_to_anyone(name: str, state: str) -> None:
    machine = MACHINES[name]
    for role in ALL_ROLES:
        assert machine.allowed_actions(state, role) == []
        for action in machine.actions():
            with pytest.raises(InvalidTransition):
                machine.decide(state, action, role)


@pytest.mark.parametrize(
    ("machine", "state", "role", "allowed"),
    [
        pytest.param(APPLICATION, "draft", "applicant", ["submit", "withdraw"], id="application draft applicant"),
        pytest.param(APPLICATION, "submitted", "applicant", ["withdraw"], id="application submitted applicant"),
        pytest.param(
            APPLICATION, "submitted", "supervisor", ["return", "reject", "recommend"], id="application submitted sup"
        ),
        pytest.param(
            APPLICATION,
            "submitted",
            "province",
            ["return", "reject", "recommend"],
            id="application submitted province (a guard keeps it to leads without a supervisor)",
        ),
        pytest.param(
            APPLICATION,
            "reviewed",
            "province",
            ["open_review", "request_revision", "approve", "reject"],
            id="application reviewed",
        ),
        pytest.param(APPLICATION, "reviewed", "expert", [], id="application reviewed expert"),
        pytest.param(APPLICATION_FAST_TRACK, "draft", "province", ["submit"], id="fast track draft province"),
        pytest.param(
            CENTER,
            "under_construction",
            "province",
            ["extend", "decline_extension", "revoke", "exit", "decline_exit"],
            id="center construction province",
        ),
        pytest.param(
            CENTER,
            "under_construction",
            "applicant",
            ["request_extension", "request_acceptance", "request_exit", "withdraw_exit"],
            id="center construction applicant",
        ),
        pytest.param(CENTER, "accepted", "province", ["recognize", "revoke", "exit", "decline_exit"], id="accepted"),
        pytest.param(CENTER, "acceptance_pending", "third_party", ["record_acceptance"], id="center pending agency"),
        pytest.param(
            CENTER,
            "rectifying",
            "province",
            ["record_rectification_review", "record_assessment", "revoke", "exit", "decline_exit"],
            id="center rectifying province",
        ),
        pytest.param(CENTER, "recognized", "observer", [], id="center recognized observer"),
        pytest.param(ANNUAL_REPORT, "endorsed", "province", ["accept", "return"], id="report endorsed province"),
        pytest.param(CHANGE_REQUEST, "filed", "supervisor", ["endorse", "reject"], id="change filed supervisor"),
        pytest.param(CALL, "draft", "province", ["publish"], id="call draft province"),
        pytest.param(ASSESSMENT_CYCLE, "open", "province", ["finalize"], id="cycle open province"),
        pytest.param(ASSESSMENT_CYCLE, "open", "third_party", [], id="cycle open entrusted agency"),
    ],
)
def test_allowed_actions_lists_what_the_role_may_do_in_table_order(
    machine: StateMachine, state: str, role: str, allowed: list[str]
) -> None:
    assert machine.allowed_actions(state, role) == allowed


@pytest.mark.parametrize(
    ("state", "action", "role", "target"),
    [
        pytest.param("acceptance_pending", "record_acceptance", "province", "approved", id="not a target of the row"),
        pytest.param("acceptance_pending", "record_acceptance", "province", "nowhere", id="not a state"),
        pytest.param("rectifying", "record_rectification_review", "third_party", "rectifying", id="stays rectifying"),
        pytest.param("approved", "sign_task_book", "province", "recognized", id="single target mismatch"),
    ],
)
def test_a_target_outside_the_rows_targets_is_refused(state: str, action: str, role: str, target: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        CENTER.decide(state, action, role, target)
    assert caught.value.allowed == CENTER.allowed_actions(state, role)


@pytest.mark.parametrize(
    ("machine", "state", "action", "role", "expected"),
    [
        pytest.param(APPLICATION, "submitted", "reject", "supervisor", "not_recommended", id="supervisor reject"),
        pytest.param(APPLICATION, "reviewed", "reject", "province", "rejected", id="province reject"),
        pytest.param(ANNUAL_REPORT, "submitted", "return", "supervisor", "returned", id="supervisor return"),
        pytest.param(ANNUAL_REPORT, "endorsed", "return", "province", "returned", id="province return"),
        pytest.param(CHANGE_REQUEST, "filed", "reject", "supervisor", "rejected", id="change supervisor reject"),
        pytest.param(CHANGE_REQUEST, "endorsed", "reject", "province", "rejected", id="change province reject"),
    ],
)
def test_one_action_name_from_two_states_is_decided_by_the_row_of_the_current_state(
    machine: StateMachine, state: str, action: str, role: str, expected: str
) -> None:
    assert machine.decide(state, action, role) == expected


@pytest.mark.parametrize(
    ("machine", "state", "action", "role"),
    [
        pytest.param(APPLICATION, "reviewed", "reject", "supervisor", id="supervisor cannot reject after review"),
        pytest.param(ANNUAL_REPORT, "endorsed", "return", "supervisor", id="supervisor cannot return endorsed"),
    ],
)
def test_the_role_of_a_repeated_action_name_is_that_of_the_current_states_row(
    machine: StateMachine, state: str, action: str, role: str
) -> None:
    with pytest.raises(InvalidTransition):
        machine.decide(state, action, role)


# The shipped fast track is derived at import; deriving it again inside the test runs the derivation under test (a
# mutation run switches a mutant on only after import and collection, so not in a parametrize argument either).
@pytest.mark.parametrize("derive", [False, True], ids=["shipped", "derived in the test"])
def test_the_fast_track_differs_from_the_ordinary_lifecycle_only_in_submit(derive: bool) -> None:
    fast_track = lifecycles._fast_track(APPLICATION) if derive else APPLICATION_FAST_TRACK
    assert fast_track.name == "application_fast_track"
    ordinary = [t for t in APPLICATION.transitions if t.action != "submit"]
    fast = [t for t in fast_track.transitions if t.action != "submit"]
    assert fast == ordinary
    assert fast_track.states == APPLICATION.states
    assert fast_track.initial == APPLICATION.initial
    assert fast_track.terminal == APPLICATION.terminal
    submits = [t for t in fast_track.transitions if t.action == "submit"]
    assert [t.source for t in submits] == ["draft", "returned", "incomplete"]
    assert all(t.targets == ("recommended",) for t in submits)
    assert all(t.roles == {"province", "applicant"} for t in submits)


@pytest.mark.parametrize("role", ["province", "applicant"])
def test_a_fast_track_application_is_recommended_as_soon_as_it_is_submitted(role: str) -> None:
    assert APPLICATION_FAST_TRACK.decide("draft", "submit", role) == "recommended"
    assert APPLICATION.decide("draft", "submit", "applicant") == "submitted"


def test_the_province_cannot_submit_an_ordinary_application() -> None:
    with pytest.raises(InvalidTransition):
        APPLICATION.decide("draft", "submit", "province")


@pytest.mark.parametrize("name", sorted(SPEC))
def test_actions_lists_each_action_name_once(name: str) -> None:
    machine = MACHINES[name]
    assert sorted(machine.actions()) == sorted({row[0] for row in SPEC[name]})
    assert len(machine.actions()) == len(set(machine.actions()))


@pytest.mark.parametrize("name", sorted(SPEC))
def test_as_dict_publishes_every_transition_with_sorted_roles(name: str) -> None:
    data = MACHINES[name].as_dict()
    assert data["name"] == name
    assert data["states"] == list(MACHINES[name].states)
    assert data["initial"] == MACHINES[name].initial
    assert set(data["terminal"]) == TERMINAL[name]
    published = {(t["action"], t["from"], tuple(t["to"]), frozenset(t["roles"])) for t in data["transitions"]}
    assert published == set(SPEC[name])
    assert all(t["roles"] == sorted(t["roles"]) for t in data["transitions"])
    assert set(data) == {"name", "states", "initial", "terminal", "transitions"}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_the_mermaid_diagram_draws_every_transition_and_end(name: str) -> None:
    machine = MACHINES[name]
    diagram = machine.mermaid().splitlines()
    assert diagram[0] == "stateDiagram-v2"
    assert f"    [*] --> {machine.initial}" in diagram
    for action, source, targets, roles in SPEC[name]:
        for target in targets:
            assert f"    {source} --> {target}: {action} ({', '.join(sorted(roles))})" in diagram
    for state in TERMINAL[name]:
        assert f"    {state} --> [*]" in diagram


@pytest.mark.parametrize(
    ("states", "initial", "terminal", "transitions"),
    [
        pytest.param(("a", "a"), "a", frozenset[str](), (), id="duplicate state"),
        pytest.param(("a",), "b", frozenset[str](), (), id="unknown initial"),
        pytest.param(("a",), "a", frozenset({"z"}), (), id="unknown terminal"),
        pytest.param(
            ("a",), "a", frozenset[str](), (Transition("go", "a", ("z",), frozenset({"x"})),), id="to nowhere"
        ),
        pytest.param(
            ("a", "b"), "a", frozenset({"b"}), (Transition("go", "b", ("a",), frozenset({"x"})),), id="out of terminal"
        ),
        pytest.param(
            ("a", "b"),
            "a",
            frozenset[str](),
            (Transition("go", "a", ("b",), frozenset({"x"})), Transition("go", "a", ("a",), frozenset({"y"}))),
            id="two rows for one state and action",
        ),
        pytest.param(("a", "b"), "a", frozenset[str](), (Transition("go", "a", ("b",), frozenset()),), id="no roles"),
        pytest.param(("a", "b"), "a", frozenset[str](), (Transition("go", "a", (), frozenset({"x"})),), id="no target"),
    ],
)
def test_a_malformed_table_is_refused_when_the_machine_is_built(
    states: tuple[str, ...], initial: str, terminal: frozenset[str], transitions: tuple[Transition, ...]
) -> None:
    with pytest.raises(ValueError, match=r"^broken: "):
        StateMachine("broken", states, initial, terminal, transitions)


@pytest.mark.parametrize(
    ("targets", "expected"),
    [pytest.param("reviewed", ("reviewed",), id="one target"), pytest.param(("a", "b"), ("a", "b"), id="several")],
)
def test_a_table_row_is_written_in_one_line(targets: str | tuple[str, ...], expected: tuple[str, ...]) -> None:
    row = lifecycles._t("resubmit", "revising", targets, "applicant", "province", description_en="Resubmit")
    assert row == Transition(
        action="resubmit",
        source="revising",
        targets=expected,
        roles=frozenset({"applicant", "province"}),
        description_en="Resubmit",
    )
    assert lifecycles._t("close", "published", "closed", "province").description_en == ""
