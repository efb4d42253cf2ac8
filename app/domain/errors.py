"""Domain errors. They carry data and no HTTP status; `app/api/problems.py` maps them to RFC 9457 problems."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """Base of every error the rules raise."""


@dataclass
class InvalidTransition(DomainError):
    """The action is not allowed for this caller in the resource's current state."""

    current: str
    action: str
    allowed: Sequence[str]

    def __str__(self) -> str:
        return f"action {self.action!r} is not allowed in state {self.current!r}"


@dataclass
class ActionBlocked(DomainError):
    """A lifecycle action is refused; `blockers` are exactly what `GET …/actions` lists for it (as dicts).

    `table` is true when the state table itself says no (wrong state or role): the API answers `invalid-transition`.
    """

    current: str
    action: str
    blockers: Sequence[dict[str, Any]]
    allowed: Sequence[str]
    table: bool = False

    def __str__(self) -> str:
        return f"action {self.action!r} is blocked in state {self.current!r}"


@dataclass
class Ineligible(DomainError):
    """Eligibility rules failed; `checks` are the failing checks (dicts ready to serialise)."""

    checks: Sequence[dict[str, Any]]


@dataclass
class ConflictOfInterest(DomainError):
    """An expert may not sit on a panel because of an affiliation or a declared conflict (回避)."""

    expert_id: str
    org_id: str
    cause: str  # "affiliation" | "declared_conflict"


@dataclass
class RuleViolation(DomainError):
    """A business rule says no (409). `code` is stable kebab-case; messages are bilingual."""

    code: str
    message_zh: str
    message_en: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class InvalidInput(DomainError):
    """A value is malformed in a way only the domain can tell (422), e.g. a wrong credit-code check character."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"
