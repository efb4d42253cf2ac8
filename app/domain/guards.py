"""Why an action may not be taken now: each unmet condition as data, in Chinese and English — and the one place that
decides it.

Every lifecycle is a `Lifecycle`: its state table plus one pure guard per action over a frozen *facts* object that
the service gathers once. Refusing an action (`Lifecycle.check`), explaining it (`Lifecycle.views`, served by
`GET …/actions` as `blocked_by`) and the `allowed_actions` of every read (`Lifecycle.allowed`) all call
`Lifecycle.blockers`, so the three cannot disagree: a refusal carries exactly the blockers the actions endpoint lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from app.domain.errors import ActionBlocked
from app.domain.lifecycles import StateMachine
from app.domain.principal import Principal


@dataclass(frozen=True, slots=True)
class Blocker:
    """One unmet condition, explained in both languages."""

    code: str
    message_zh: str
    message_en: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en, **self.data}


# Codes of the table's own answers; a refusal made of these is an `invalid-transition` (api.md).
TABLE_CODES = frozenset({"wrong-state", "wrong-role"})


def state_and_role_blockers(machine: StateMachine, state: str, action: str, role: str) -> list[Blocker]:
    """The table's own answer: is there a row for (state, action), and may this role take it?"""
    row = machine.find(state, action)
    blockers = []
    if row is None:
        blockers.append(
            Blocker(
                "wrong-state",
                f"当前状态（{state}）不能执行 {action}",
                f"'{action}' is not possible in state '{state}'.",
                {"status": state},
            )
        )
        roles = sorted({r for t in machine.transitions if t.action == action for r in t.roles})
    else:
        roles = sorted(row.roles)
    if role not in roles:
        blockers.append(
            Blocker(
                "wrong-role",
                f"{action} 只能由 {'、'.join(roles)} 执行",
                f"'{action}' is for: {', '.join(roles)}.",
                {"roles": roles},
            )
        )
    return blockers


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


F = TypeVar("F", bound=HasStatus)
Guard = Callable[[Principal, F], list[Blocker]]


@dataclass(frozen=True)
class ActionView:
    """One action as the caller sees it now: allowed, or the blockers that stop it."""

    action: str
    allowed: bool
    blocked_by: list[Blocker] = field(default_factory=list)


@dataclass(frozen=True)
class Lifecycle(Generic[F]):
    """A state table plus the guards that look past the state: the single source of every refusal and explanation.

    `machine_of` picks the table from the facts (the fast-track application has its own); `guards` maps an action to
    a pure function of (caller, facts); `internal` actions are applied by other use cases (finalizing an assessment)
    and are neither listed nor offered.
    """

    name: str
    machine_of: Callable[[F], StateMachine]
    guards: Mapping[str, Guard[F]]
    internal: frozenset[str] = frozenset()

    def actions(self, facts: F) -> list[str]:
        return [a for a in self.machine_of(facts).actions() if a not in self.internal]

    def table_open(self, actor: Principal, facts: F) -> list[str]:
        """Actions whose table row admits this caller now: the only ones whose guards need facts."""
        machine = self.machine_of(facts)
        return [a for a in machine.allowed_actions(facts.status, actor.role) if a not in self.internal]

    def blockers(self, action: str, actor: Principal, facts: F) -> list[Blocker]:
        """Everything that stops `actor` taking `action` now; empty when it may."""
        table = state_and_role_blockers(self.machine_of(facts), facts.status, action, actor.role)
        if table:
            return table
        guard = self.guards.get(action)
        return guard(actor, facts) if guard is not None else []

    def allowed(self, actor: Principal, facts: F) -> list[str]:
        """The actions `views` marks allowed, in the same order (the lifecycle's action order)."""
        # Only actions the table opens can be allowed (the others' blockers are the table's), so only they are judged,
        # in the lifecycle's action order.
        order = self.machine_of(facts).action_order()
        open_now = sorted(self.table_open(actor, facts), key=order.__getitem__)
        return [a for a in open_now if not self.blockers(a, actor, facts)]

    def views(self, actor: Principal, facts: F) -> list[ActionView]:
        out = []
        for action in self.actions(facts):
            blocked = self.blockers(action, actor, facts)
            out.append(ActionView(action, not blocked, blocked))
        return out

    def check(self, action: str, actor: Principal, facts: F) -> None:
        """Refuse with exactly what `views` would list for `action` (ActionBlocked), or return."""
        blocked = self.blockers(action, actor, facts)
        if blocked:
            raise refusal(facts.status, action, blocked, self.allowed(actor, facts))


def refusal(current: str, action: str, blocked: Sequence[Blocker], allowed: Sequence[str]) -> ActionBlocked:
    """The error for a refused action or edit: its blockers, what the caller may do instead, and whether the state
    table itself said no (wrong state or role → `invalid-transition`)."""
    return ActionBlocked(
        current=current,
        action=action,
        blockers=[b.as_dict() for b in blocked],
        allowed=list(allowed),
        table=any(b.code in TABLE_CODES for b in blocked),
    )


def blocker(code: str, zh: str, en: str, **data: Any) -> Blocker:
    """Shorthand for a guard's answer."""
    return Blocker(code, zh, en, data)
