"""The state table's own refusals and the error a refused action raises (api.md: invalid-transition, blockers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.domain import centers
from app.domain.errors import ActionBlocked
from app.domain.guards import Blocker, refusal, state_and_role_blockers
from app.domain.lifecycles import APPLICATION, CHANGE_REQUEST
from app.domain.principal import Principal


def test_an_action_with_no_row_from_the_state_is_the_wrong_state_and_names_its_roles() -> None:
    found = state_and_role_blockers(APPLICATION, "approved", "recommend", "observer")
    assert [b.as_dict() for b in found] == [
        {
            "code": "wrong-state",
            "message_zh": "当前状态（approved）不能执行 recommend",
            "message_en": "'recommend' is not possible in state 'approved'.",
            "status": "approved",
        },
        {
            "code": "wrong-role",
            "message_zh": "recommend 只能由 province、supervisor 执行",
            "message_en": "'recommend' is for: province, supervisor.",
            "roles": ["province", "supervisor"],
        },
    ]


def test_with_no_row_a_role_that_may_take_the_action_elsewhere_is_only_the_wrong_state() -> None:
    found = state_and_role_blockers(APPLICATION, "approved", "recommend", "supervisor")
    assert [b.code for b in found] == ["wrong-state"]


def test_a_row_admits_only_its_own_roles() -> None:
    # reject is the supervisor's (and the province's) from filed, only the province's from endorsed.
    assert state_and_role_blockers(CHANGE_REQUEST, "filed", "reject", "supervisor") == []
    found = state_and_role_blockers(CHANGE_REQUEST, "endorsed", "reject", "supervisor")
    assert [(b.code, b.data) for b in found] == [("wrong-role", {"roles": ["province"]})]
    assert state_and_role_blockers(CHANGE_REQUEST, "endorsed", "reject", "province") == []


@pytest.mark.parametrize(("code", "table"), [("wrong-state", True), ("wrong-role", True), ("task-book-missing", False)])
def test_a_refusal_is_an_invalid_transition_only_when_the_table_said_no(code: str, table: bool) -> None:
    blocked = [Blocker("extension-pending", "zh", "en"), Blocker(code, "中", "en", {"k": 1})]
    error = refusal("approved", "sign_task_book", blocked, ("exit", "revoke"))
    assert isinstance(error, ActionBlocked)
    assert (error.current, error.action, error.allowed, error.table) == (
        "approved",
        "sign_task_book",
        ["exit", "revoke"],
        table,
    )
    assert error.blockers == [
        {"code": "extension-pending", "message_zh": "zh", "message_en": "en"},
        {"code": code, "message_zh": "中", "message_en": "en", "k": 1},
    ]


def test_check_refuses_with_the_guards_blockers_and_passes_when_nothing_blocks() -> None:
    province = Principal("p", "province")
    facts = centers.CenterFacts(status="approved", today=date(2026, 1, 5), approved_on=date(2025, 12, 1))
    with pytest.raises(ActionBlocked) as refused:
        centers.LIFECYCLE.check("sign_task_book", province, facts)
    assert (refused.value.current, refused.value.action, refused.value.table) == ("approved", "sign_task_book", False)
    assert [b["code"] for b in refused.value.blockers] == ["task-book-missing"]
    centers.LIFECYCLE.check("sign_task_book", province, replace(facts, has_task_book=True))
