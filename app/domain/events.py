"""The hash chain of the event feed: canonical JSON and SHA-256, so anyone can re-check the record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the same bytes for the same event on every platform."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint(document: Any) -> str:
    """SHA-256 of a document's canonical JSON: recorded when a task book is signed or a decision recorded."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    id: str
    type: str
    subject_type: str
    subject_id: str
    actor_sub: str
    actor_role: str
    occurred_at: datetime
    effective_on: date | None
    data: Mapping[str, Any]
    prev_hash: str

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "actor": {"sub": self.actor_sub, "role": self.actor_role},
            "occurred_at": self.occurred_at.isoformat(),
            "effective_on": self.effective_on.isoformat() if self.effective_on else None,
            "data": dict(self.data),
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.body()).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_seq: int | None


def verify_chain(
    events: Iterable[tuple[Event, str]], *, previous_hash: str = GENESIS_HASH, expected_seq: int = 1
) -> ChainCheck:
    """Walk (event, stored hash) pairs in seq order; the first gap, broken link or wrong hash is reported."""
    checked = 0
    for event, stored_hash in events:
        checked += 1
        if event.seq != expected_seq or event.prev_hash != previous_hash or event.compute_hash() != stored_hash:
            return ChainCheck(ok=False, checked=checked, first_bad_seq=event.seq)
        previous_hash = stored_hash
        expected_seq += 1
    return ChainCheck(ok=True, checked=checked, first_bad_seq=None)


@dataclass(frozen=True, slots=True)
class Unsequenced:
    """An event as its transaction appended it: everything but its place in the feed (seq and prev_hash)."""

    id: str
    type: str
    subject_type: str
    subject_id: str
    actor_sub: str
    actor_role: str
    occurred_at: datetime
    effective_on: date | None
    data: Mapping[str, Any]


def chain(entries: Sequence[Unsequenced], *, head_seq: int, head_hash: str) -> list[tuple[Event, str]]:
    """Place `entries`, in the order given, after the feed's head (seq `head_seq`, hash `head_hash`; 0 and
    GENESIS_HASH for an empty feed): consecutive seqs, each linked to the hash before it. Answers (event, hash)
    pairs, which verify_chain accepts from `head_hash` and `head_seq + 1` on."""
    chained: list[tuple[Event, str]] = []
    seq, previous = head_seq, head_hash
    for entry in entries:
        seq += 1
        event = Event(
            seq=seq,
            id=entry.id,
            type=entry.type,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            actor_sub=entry.actor_sub,
            actor_role=entry.actor_role,
            occurred_at=entry.occurred_at,
            effective_on=entry.effective_on,
            data=entry.data,
            prev_hash=previous,
        )
        previous = event.compute_hash()
        chained.append((event, previous))
    return chained
