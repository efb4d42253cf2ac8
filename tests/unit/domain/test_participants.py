"""Participants (api.md): `[{org_id, role}]`, the lead not among them, nobody twice — one rule for every place."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.participants import membership_problems, shape_problems

LEAD = "00000000-0000-0000-0000-00000000000a"
A = "00000000-0000-0000-0000-000000000001"
B = "00000000-0000-0000-0000-000000000002"
NOT_THE_LEAD = "the lead organization is not repeated among the participants"


@pytest.mark.parametrize(
    ("org_ids", "expected"),
    [
        ([], []),
        ([A, B], []),
        ([A, A], [((1, "org_id"), "duplicate participant")]),
        ([LEAD], [((0, "org_id"), NOT_THE_LEAD)]),
        ([A, LEAD, A], [((1, "org_id"), NOT_THE_LEAD), ((2, "org_id"), "duplicate participant")]),
    ],
)
def test_the_lead_is_not_a_participant_and_nobody_takes_part_twice(
    org_ids: list[str], expected: list[tuple[tuple[Any, ...], str]]
) -> None:
    assert [(where, msg) for where, msg, _ in membership_problems(LEAD, org_ids)] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([{"org_id": A}, {"org_id": B, "role": "共建单位"}], []),
        ({"org_id": A}, [((), "list_type")]),
        ("x", [((), "list_type")]),
        ([{"org_id": A}] * 51, [((), "too_long")]),
        ([{"org_id": A}] * 50, []),
        ([[A]], [((0,), "dict_type")]),
        ([{}], [((0, "org_id"), "missing")]),
        ([{"org_id": None}], [((0, "org_id"), "missing")]),
        ([{"org_id": "zzz"}], [((0, "org_id"), "uuid_parsing")]),
        ([{"org_id": 7}], [((0, "org_id"), "uuid_parsing")]),
        ([{"org_id": A, "role": ""}], [((0, "role"), "string_type")]),
        ([{"org_id": A, "role": "r" * 50}], []),
        ([{"org_id": A, "role": "r" * 51}], [((0, "role"), "string_type")]),
        ([{"org_id": A, "role": ["x"]}], [((0, "role"), "string_type")]),
        ([{"org_id": A, "roel": "x"}], [((0, "roel"), "extra_forbidden")]),
    ],
)
def test_a_participants_list_sent_as_free_json_has_the_schemas_shape(
    value: Any, expected: list[tuple[tuple[Any, ...], str]]
) -> None:
    assert [(where, kind) for where, _, kind in shape_problems(value)] == expected
