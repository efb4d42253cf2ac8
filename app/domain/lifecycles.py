"""Lifecycles of the Henan TIC programme as data (domain.md §4, §6, §7; api.md "state-machines").

Each lifecycle is a table of transitions: an action, the state it starts from, the state(s) it may lead to and the
roles allowed to take it. The API derives `allowed_actions` from the same table it uses to decide, and
`GET /api/v1/reference/state-machines` publishes `as_dict()`, so the rules, the guard and the documentation cannot
drift apart. Guards that need more than the current state (a valid panel, an open call, "extend only once", which
kind of rectification is under way) are pure functions over gathered facts in the lifecycle's own domain module
(`app.domain.applications`, `app.domain.centers`, ...), joined to the table by `app.domain.guards.Lifecycle`; the
machine only answers "may this role take this action from this state, and where does it lead".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.domain.errors import InvalidTransition


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of a lifecycle table.

    `targets` has several states when the recorded outcome decides where the resource goes (e.g. `record_acceptance`:
    passed → recognized, failed → rectifying, second failure → revoked).
    """

    action: str
    source: str
    targets: tuple[str, ...]
    roles: frozenset[str]
    description_en: str = ""


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A lifecycle: its states, the initial and terminal ones, and the transition table.

    Rows are keyed by (source, action): the same action name may appear from several states with different roles
    (application `reject` is the supervisor's from `submitted` and the province's from `reviewed`).
    """

    name: str
    states: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    transitions: tuple[Transition, ...]
    # Built once in __post_init__ so `find` is a dict look-up; excluded from equality and repr because it is derived.
    _index: dict[tuple[str, str], Transition] = field(default_factory=dict, init=False, repr=False, compare=False)
    # Derived on first use and kept (the table never changes): action order, and the actions open per (state, role).
    # A page of 50 centers asks for both 50 times.
    _order: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _open: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A malformed table is a programming error; failing at import time beats a wrong 409 in production.
        known = set(self.states)
        if len(known) != len(self.states):
            raise ValueError(f"{self.name}: duplicate states")
        if self.initial not in known:
            raise ValueError(f"{self.name}: initial state {self.initial!r} is not a state")
        if not self.terminal <= known:
            raise ValueError(f"{self.name}: terminal states {sorted(self.terminal - known)} are not states")
        for row in self.transitions:
            if row.source not in known or not row.targets or not set(row.targets) <= known:
                raise ValueError(f"{self.name}: transition {row.action!r} names unknown states")
            if len(set(row.targets)) != len(row.targets):
                raise ValueError(f"{self.name}: transition {row.action!r} from {row.source!r} repeats a target")
            if row.source in self.terminal:
                raise ValueError(f"{self.name}: terminal state {row.source!r} has an outgoing transition")
            if not row.roles:
                raise ValueError(f"{self.name}: transition {row.action!r} from {row.source!r} has no roles")
            key = (row.source, row.action)
            if key in self._index:
                raise ValueError(f"{self.name}: two rows for action {row.action!r} from {row.source!r}")
            self._index[key] = row

    def find(self, state: str, action: str) -> Transition | None:
        """The row for `action` taken from `state`, or None."""
        return self._index.get((state, action))

    def allowed_actions(self, state: str, role: str) -> list[str]:
        """Actions `role` may take from `state`, in table order, each once."""
        found = self._open.get((state, role))
        if found is None:
            allowed: list[str] = []
            for row in self.transitions:
                if row.source == state and role in row.roles and row.action not in allowed:
                    allowed.append(row.action)
            found = self._open[(state, role)] = tuple(allowed)
        return list(found)

    def decide(self, state: str, action: str, role: str, target: str | None = None) -> str:
        """The state `action` by `role` leads to from `state`.

        Raises InvalidTransition (listing what `role` may do instead) when there is no such row, the role may not take
        it, or `target` is not one of the row's targets. With several targets `target` is required (the outcome
        decides); with one it is optional but must match when given.
        """
        row = self.find(state, action)
        if row is None or role not in row.roles:
            raise InvalidTransition(current=state, action=action, allowed=self.allowed_actions(state, role))
        if target is None:
            if len(row.targets) == 1:
                return row.targets[0]
            raise InvalidTransition(current=state, action=action, allowed=self.allowed_actions(state, role))
        if target not in row.targets:
            raise InvalidTransition(current=state, action=action, allowed=self.allowed_actions(state, role))
        return target

    def actions(self) -> list[str]:
        """Every distinct action name, in table order."""
        return list(self.action_order())

    def action_order(self) -> dict[str, int]:
        """Each distinct action name and its place in table order (its first row)."""
        if not self._order:
            self._order.update(
                (action, i) for i, action in enumerate(dict.fromkeys(r.action for r in self.transitions))
            )
        return self._order

    def as_dict(self) -> dict[str, Any]:
        """The machine as JSON-ready data (`GET /api/v1/reference/state-machines`)."""
        return {
            "name": self.name,
            "states": list(self.states),
            "initial": self.initial,
            # States order, not set order: the published document must be stable between runs.
            "terminal": [state for state in self.states if state in self.terminal],
            "transitions": [
                {"action": row.action, "from": row.source, "to": list(row.targets), "roles": sorted(row.roles)}
                for row in self.transitions
            ],
        }

    def mermaid(self) -> str:
        """A Mermaid `stateDiagram-v2`: one arrow per (from, to) edge of each row, labelled `action (roles)`."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for row in self.transitions:
            label = f"{row.action} ({', '.join(sorted(row.roles))})"
            lines.extend(f"    {row.source} --> {target}: {label}" for target in row.targets)
        lines.extend(f"    {state} --> [*]" for state in self.states if state in self.terminal)
        return "\n".join(lines) + "\n"


def _t(action: str, source: str, targets: str | tuple[str, ...], *roles: str, description_en: str = "") -> Transition:
    # Keeps the tables below one readable line per row.
    return Transition(
        action=action,
        source=source,
        targets=(targets,) if isinstance(targets, str) else targets,
        roles=frozenset(roles),
        description_en=description_en,
    )


CALL = StateMachine(
    name="call",
    states=("draft", "published", "closed"),
    initial="draft",
    terminal=frozenset({"closed"}),
    transitions=(
        _t("publish", "draft", "published", "province", description_en="Publish the call for applications"),
        _t("close", "published", "closed", "province", description_en="Close the call"),
    ),
)

# domain.md §4 (组建程序) [seed], with `returned` and `withdrawn` as the practice fills them in.
APPLICATION = StateMachine(
    name="application",
    states=(
        "draft",
        "submitted",
        "returned",
        "recommended",
        "incomplete",
        "not_recommended",
        "withdrawn",
        "under_review",
        "reviewed",
        "revising",
        "approved",
        "rejected",
    ),
    initial="draft",
    terminal=frozenset({"not_recommended", "withdrawn", "approved", "rejected"}),
    transitions=(
        _t("submit", "draft", "submitted", "applicant", description_en="Submit to the supervising department"),
        _t("submit", "returned", "submitted", "applicant", description_en="Submit again after corrections"),
        # Material completed after a formal review found it incomplete goes straight back to the province.
        _t(
            "submit",
            "incomplete",
            "recommended",
            "applicant",
            description_en="Submit the completed material for formal review again",
        ),
        _t("withdraw", "draft", "withdrawn", "applicant", description_en="Withdraw the application"),
        _t("withdraw", "returned", "withdrawn", "applicant", description_en="Withdraw the application"),
        _t("withdraw", "submitted", "withdrawn", "applicant", description_en="Withdraw the application"),
        _t("withdraw", "revising", "withdrawn", "applicant", description_en="Withdraw the application"),
        _t("withdraw", "incomplete", "withdrawn", "applicant", description_en="Withdraw the application"),
        # The province takes the supervisor's steps for a lead with no supervising department (省直单位); a guard
        # keeps it out where a department exists (app/domain/applications.py).
        _t(
            "return",
            "submitted",
            "returned",
            "supervisor",
            "province",
            description_en="Return to the applicant for corrections",
        ),
        _t("reject", "submitted", "not_recommended", "supervisor", "province", description_en="Decline to recommend"),
        _t(
            "recommend",
            "submitted",
            "recommended",
            "supervisor",
            "province",
            description_en="Recommend to the province",
        ),
        # Formal review (形式审查, issue 16 §2): applied by POST …/formal-review with outcome `incomplete`; the lead
        # supplies what is missing and submits again, straight back to the province's formal review.
        _t(
            "return_incomplete",
            "recommended",
            "incomplete",
            "province",
            description_en="Formal review found material missing (材料待补正)",
        ),
        _t("open_review", "recommended", "under_review", "province", description_en="Open expert review"),
        _t("open_review", "reviewed", "under_review", "province", description_en="Re-open review on the revised plan"),
        _t("conclude_review", "under_review", "reviewed", "province", description_en="Conclude expert review"),
        _t("request_revision", "reviewed", "revising", "province", description_en="Ask for a revised plan"),
        _t("resubmit", "revising", "reviewed", "applicant", description_en="Resubmit the revised plan"),
        _t("approve", "reviewed", "approved", "province", description_en="Approve; creates the center"),
        _t("reject", "reviewed", "rejected", "province", description_en="Reject after review"),
    ),
)


def _fast_track(base: StateMachine) -> StateMachine:
    """The fast-track (一事一议) variant of the application lifecycle (domain.md §4 [seed]).

    A fast-track application has no call and no supervisor step: the province creates it for a field the provincial
    government prioritised, and submitting it (by the province or the applicant) lands it directly in `recommended`.
    Every other row is the ordinary lifecycle's, so a change there reaches the fast track too.
    """
    transitions = tuple(
        replace(row, targets=("recommended",), roles=frozenset({"province", "applicant"}))
        if row.action == "submit"
        else row
        for row in base.transitions
    )
    return StateMachine(
        name=f"{base.name}_fast_track",
        states=base.states,
        initial=base.initial,
        terminal=base.terminal,
        transitions=transitions,
    )


APPLICATION_FAST_TRACK = _fast_track(APPLICATION)

# States from which a center can still change; revocation and exit are open from each of them (domain.md §6-7).
CENTER_LIVE_STATES: tuple[str, ...] = (
    "approved",
    "under_construction",
    "acceptance_pending",
    "accepted",
    "recognized",
    "rectifying",
)

# domain.md §6 (center lifecycle), §7 (revocation); 豫科〔2021〕116号 五(四): acceptance after the construction period,
# and only an accepted center is formally recognized (验收通过后方可获得正式认定), by the province.
CENTER = StateMachine(
    name="center",
    states=(*CENTER_LIVE_STATES, "revoked", "exited"),
    initial="approved",
    terminal=frozenset({"revoked", "exited"}),
    transitions=(
        _t("sign_task_book", "approved", "under_construction", "province", description_en="Sign the task book"),
        _t(
            "request_extension",
            "under_construction",
            "under_construction",
            "applicant",
            description_en="Ask for an extension before construction ends",
        ),
        _t("extend", "under_construction", "under_construction", "province", description_en="Grant the extension"),
        _t(
            "decline_extension",
            "under_construction",
            "under_construction",
            "province",
            description_en="Decline the extension",
        ),
        _t(
            "request_acceptance",
            "under_construction",
            "acceptance_pending",
            "applicant",
            description_en="Request acceptance",
        ),
        _t(
            "request_acceptance",
            "rectifying",
            "acceptance_pending",
            "applicant",
            description_en="Request acceptance again after rectification",
        ),
        _t(
            "record_acceptance",
            "acceptance_pending",
            ("accepted", "rectifying", "revoked"),
            "province",
            "third_party",
            description_en="Record the acceptance verdict",
        ),
        _t("recognize", "accepted", "recognized", "province", description_en="Formally recognize (正式认定)"),
        _t(
            "record_rectification_review",
            "rectifying",
            ("recognized", "revoked"),
            "province",
            "third_party",
            description_en="Record the rectification review result",
        ),
        # Finalizing an assessment cycle applies its consequence to each graded center (domain.md §7).
        _t(
            "record_assessment",
            "recognized",
            ("recognized", "rectifying", "revoked"),
            "province",
            description_en="Apply an assessment grade: unqualified → rectifying, absent → revoked",
        ),
        _t(
            "record_assessment",
            "rectifying",
            ("recognized", "rectifying", "revoked"),
            "province",
            description_en="Apply an assessment grade while rectifying: qualified or better → recognized, "
            "unqualified again → revoked",
        ),
        *(
            _t("revoke", state, "revoked", "province", description_en="Revoke with a reason code")
            for state in CENTER_LIVE_STATES
        ),
        *(
            _t("request_exit", state, state, "applicant", description_en="Ask to exit; the province decides")
            for state in CENTER_LIVE_STATES
        ),
        *(_t("exit", state, "exited", "province", description_en="Approve the exit") for state in CENTER_LIVE_STATES),
        *(
            _t("decline_exit", state, state, "province", description_en="Decline the exit request")
            for state in CENTER_LIVE_STATES
        ),
        *(
            _t("withdraw_exit", state, state, "applicant", description_en="Withdraw the exit request")
            for state in CENTER_LIVE_STATES
        ),
    ),
)

# domain.md §6 annual reports [seed]: the supervisor endorses (审核) before the province receives the report.
ANNUAL_REPORT = StateMachine(
    name="annual_report",
    states=("draft", "submitted", "endorsed", "returned", "accepted"),
    initial="draft",
    terminal=frozenset({"accepted"}),
    transitions=(
        _t("submit", "draft", "submitted", "applicant", description_en="Submit to the supervising department"),
        _t(
            "endorse",
            "submitted",
            "endorsed",
            "supervisor",
            "province",
            description_en="Endorse and forward to the province",
        ),
        _t("return", "submitted", "returned", "supervisor", "province", description_en="Return for corrections"),
        _t("accept", "endorsed", "accepted", "province", description_en="Accept the report"),
        _t("return", "endorsed", "returned", "province", description_en="Return for corrections"),
        _t("submit", "returned", "submitted", "applicant", description_en="Submit again after corrections"),
    ),
)

# domain.md §6 changes [practice]: lead organization → supervising department → province.
CHANGE_REQUEST = StateMachine(
    name="change_request",
    states=("filed", "endorsed", "approved", "rejected"),
    initial="filed",
    terminal=frozenset({"approved", "rejected"}),
    transitions=(
        _t(
            "endorse",
            "filed",
            "endorsed",
            "supervisor",
            "province",
            description_en="Review and forward to the province",
        ),
        _t(
            "reject",
            "filed",
            "rejected",
            "supervisor",
            "province",
            description_en="Reject at the supervising department",
        ),
        _t("approve", "endorsed", "approved", "province", description_en="Approve or acknowledge the change"),
        _t("reject", "endorsed", "rejected", "province", description_en="Reject at the province"),
    ),
)

# domain.md §7: a cycle stays open while results are recorded; the province finalizes it once, which grades every
# center and applies the consequences. Its guard (no live center left without a result) is in
# `app.domain.assessment_cycles`.
ASSESSMENT_CYCLE = StateMachine(
    name="assessment_cycle",
    states=("open", "finalized"),
    initial="open",
    terminal=frozenset({"finalized"}),
    transitions=(
        _t("finalize", "open", "finalized", "province", description_en="Grade every center and apply the consequences"),
    ),
)

MACHINES: dict[str, StateMachine] = {
    machine.name: machine
    for machine in (CALL, APPLICATION, APPLICATION_FAST_TRACK, CENTER, ANNUAL_REPORT, CHANGE_REQUEST, ASSESSMENT_CYCLE)
}
