"""Why an action may not be taken now: each unmet condition as data, in Chinese and English.

The action introspection endpoints list these as `blocked_by`; `allowed_actions` is the list of actions with none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.lifecycles import StateMachine


@dataclass(frozen=True, slots=True)
class Blocker:
    """One unmet condition, explained in both languages."""

    code: str
    message_zh: str
    message_en: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en, **self.data}


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
