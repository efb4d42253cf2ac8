"""Service errors: what a use case can say besides the domain's rules. No HTTP here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ServiceError(Exception):
    pass


@dataclass
class NotFound(ServiceError):
    resource: str
    id: str

    def __str__(self) -> str:
        return f"{self.resource} {self.id} not found"


@dataclass
class AlreadyExists(ServiceError):
    resource: str
    field: str
    value: str


@dataclass
class VersionMismatch(ServiceError):
    expected: int
    actual: int


@dataclass
class IdempotencyKeyReused(ServiceError):
    key: str


@dataclass
class InvalidReference(ServiceError):
    """A body field names something that does not exist or is of the wrong kind (422, field-level)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "invalid_reference"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ValidationFailed(ServiceError):
    """Several field-level problems found by the rules (422 with every item)."""

    errors: list[tuple[tuple[str | int, ...], str, str]]


@dataclass
class AttachmentRefused(ServiceError):
    """An uploaded file the service will not store: too large, of a type not accepted, over the subject's quota.
    `code` is the problem's code (app/api/problems.py decides its status); nothing was stored."""

    code: str
    msg: str
    data: dict[str, Any] = field(default_factory=dict)
