"""Calls for applications (申报通知): when a call takes submissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.guards import Lifecycle
from app.domain.lifecycles import CALL


@dataclass(frozen=True, slots=True)
class CallWindow:
    status: str
    opens_on: date
    closes_on: date


def is_open_on(call: CallWindow, day: date) -> bool:
    """A call takes submissions on the dates of its window (both ends included) while it is published."""
    return call.status == "published" and call.opens_on <= day <= call.closes_on


@dataclass(frozen=True, slots=True)
class CallFacts:
    status: str


# The call lifecycle has no guard beyond its table: the province publishes a draft and closes a published call.
LIFECYCLE: Lifecycle[CallFacts] = Lifecycle(name="call", machine_of=lambda facts: CALL, guards={})
