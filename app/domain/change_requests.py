"""Change requests (变更, domain.md §6 [practice: Jilin, Fujian]): lead organization → supervising department
(review) → province. Guards over `ChangeFacts`; refusing and explaining both call `LIFECYCLE.blockers`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.guards import Blocker, Lifecycle, blocker
from app.domain.lifecycles import CENTER, CHANGE_REQUEST
from app.domain.principal import Principal

CENTER_CLOSED = blocker("center-closed", "中心已撤销或退出", "The center has been revoked or has exited.")


def supervisor_decides(actor: Principal, lead_has_supervisor: bool) -> list[Blocker]:
    """The province takes a supervising department's step only for a lead that has none (省直单位, central units
    in Henan); where a department exists, the step is the department's (domain.md §6)."""
    if actor.role == "province" and lead_has_supervisor:
        return [
            blocker(
                "supervisor-decides",
                "该牵头单位有主管部门，由主管部门办理",
                "The lead has a supervising department; this step is the department's.",
            )
        ]
    return []


def eligibility_blockers(failing_checks: Sequence[Mapping[str, Any]]) -> list[Blocker]:
    """Each failing eligibility check as a blocker; the API answers them as `ineligible` with the checks."""
    return [
        Blocker(
            "eligibility-rule-failed",
            str(check.get("message_zh", "")),
            str(check.get("message_en", "")),
            {k: v for k, v in check.items() if k not in ("message_zh", "message_en")},
        )
        for check in failing_checks
    ]


@dataclass(frozen=True, slots=True)
class ChangeFacts:
    status: str
    kind: str
    center_status: str
    lead_has_supervisor: bool
    # A new lead organization is re-checked against the current rule set (domain.md §6): its failing checks.
    new_lead_failing_checks: tuple[Mapping[str, Any], ...] = ()


def _supervisor_step(actor: Principal, f: ChangeFacts) -> list[Blocker]:
    out = supervisor_decides(actor, f.lead_has_supervisor)
    if f.center_status in CENTER.terminal:
        out.append(CENTER_CLOSED)
    return out


def _reject_filed(actor: Principal, f: ChangeFacts) -> list[Blocker]:
    # A closed center's pending requests can still be rejected, so nothing is left hanging.
    return supervisor_decides(actor, f.lead_has_supervisor)


def _approve(actor: Principal, f: ChangeFacts) -> list[Blocker]:
    if f.center_status in CENTER.terminal:
        return [CENTER_CLOSED]
    return eligibility_blockers(f.new_lead_failing_checks) if f.kind == "lead_org" else []


def _reject(actor: Principal, f: ChangeFacts) -> list[Blocker]:
    return _reject_filed(actor, f) if f.status == "filed" else []


LIFECYCLE: Lifecycle[ChangeFacts] = Lifecycle(
    name="change_request",
    machine_of=lambda facts: CHANGE_REQUEST,
    guards={"endorse": _supervisor_step, "reject": _reject, "approve": _approve},
)
