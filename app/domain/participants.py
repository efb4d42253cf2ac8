"""Participants (参建单位) of an application or a center: `[{org_id, role}]`, the lead not among them (api.md).

One rule set for every place that takes participants — drafting an application, importing a center, a `participants`
change request — so none of them accepts what another refuses.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_ROLE = "参建单位"
MAX_PARTICIPANTS = 50
MAX_ROLE_LENGTH = 50
FIELDS = frozenset({"org_id", "role"})

# (where inside the list, message, error type); `where` is () for the list itself, (index,) or (index, field).
Problem = tuple[tuple[int | str, ...], str, str]


def _is_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def shape_problems(value: Any) -> list[Problem]:
    """What is wrong with the shape of a participants list sent as free JSON (a change request's `new_value`): the
    same as what the application and import schemas refuse."""
    if not isinstance(value, list):
        return [((), "participants are a list of {org_id, role}", "list_type")]
    if len(value) > MAX_PARTICIPANTS:
        return [((), f"at most {MAX_PARTICIPANTS} participants", "too_long")]
    problems: list[Problem] = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            problems.append(((index,), "a participant is {org_id, role}", "dict_type"))
            continue
        problems.extend(
            ((index, str(name)), "unknown field; a participant is {org_id, role}", "extra_forbidden")
            for name in sorted(set(item) - FIELDS, key=str)
        )
        org_id = item.get("org_id")
        if org_id is None:
            problems.append(((index, "org_id"), "an organization id is required", "missing"))
        elif not isinstance(org_id, str) or not _is_id(org_id):
            problems.append(((index, "org_id"), "an organization id (uuid text)", "uuid_parsing"))
        role = item.get("role", DEFAULT_ROLE)
        if not isinstance(role, str) or not 1 <= len(role) <= MAX_ROLE_LENGTH:
            problems.append(((index, "role"), f"a text of 1 to {MAX_ROLE_LENGTH} characters", "string_type"))
    return problems


def membership_problems(lead_org_id: str, org_ids: Sequence[str]) -> list[Problem]:
    """The lead is not repeated among its participants, and no organization takes part twice."""
    seen: set[str] = set()
    problems: list[Problem] = []
    for index, org_id in enumerate(org_ids):
        if org_id == lead_org_id:
            problems.append(
                ((index, "org_id"), "the lead organization is not repeated among the participants", "value_error")
            )
        elif org_id in seen:
            problems.append(((index, "org_id"), "duplicate participant", "value_error"))
        seen.add(org_id)
    return problems
