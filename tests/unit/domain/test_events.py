"""The event feed's hash chain (README "Event feed"): anyone holding the feed can re-check it with a few lines of
standard-library Python, so the canonical form is part of the contract, byte for byte."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.domain.events import GENESIS_HASH, Event, canonical_json, fingerprint, verify_chain


def event(seq: int, prev_hash: str, **changes: Any) -> Event:
    base = Event(
        seq=seq,
        id=f"00000000-0000-0000-0000-{seq:012d}",
        type="center.recognized",
        subject_type="center",
        subject_id="c-1",
        actor_sub="province-1",
        actor_role="province",
        occurred_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        effective_on=date(2026, 11, 30),
        data={"document_no": "豫科〔2026〕12号", "score": 91},
        prev_hash=prev_hash,
    )
    return replace(base, **changes)


def chain(length: int) -> list[tuple[Event, str]]:
    out: list[tuple[Event, str]] = []
    previous = GENESIS_HASH
    for seq in range(1, length + 1):
        e = event(seq, previous)
        previous = e.compute_hash()
        out.append((e, previous))
    return out


def recheck(e: Event) -> str:
    """What a receiver computes from the documented fields, without this package."""
    body = {
        "actor": {"role": e.actor_role, "sub": e.actor_sub},
        "data": dict(e.data),
        "effective_on": e.effective_on.isoformat() if e.effective_on else None,
        "id": e.id,
        "occurred_at": e.occurred_at.isoformat(),
        "prev_hash": e.prev_hash,
        "seq": e.seq,
        "subject_id": e.subject_id,
        "subject_type": e.subject_type,
        "type": e.type,
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_chinese_as_utf8() -> None:
    value = {"b": [1, {"z": None, "a": True}], "a": "中心", "d": date(2026, 1, 31)}
    assert canonical_json(value) == '{"a":"中心","b":[1,{"a":true,"z":null}],"d":"2026-01-31"}'


def test_a_fingerprint_is_the_sha256_of_the_canonical_json() -> None:
    document = {"targets": [{"code": "T1"}], "name": "任务书"}
    expected = hashlib.sha256('{"name":"任务书","targets":[{"code":"T1"}]}'.encode()).hexdigest()
    assert fingerprint(document) == expected
    assert fingerprint({"targets": [{"code": "T1"}], "name": "任务书"}) == fingerprint(dict(reversed(document.items())))


@pytest.mark.parametrize("effective_on", [date(2026, 11, 30), None])
def test_an_event_hash_can_be_rechecked_from_its_documented_fields(effective_on: date | None) -> None:
    e = event(7, "a" * 64, effective_on=effective_on)
    assert e.body()["actor"] == {"sub": "province-1", "role": "province"}
    assert e.body()["effective_on"] == (effective_on.isoformat() if effective_on else None)
    assert e.compute_hash() == recheck(e)


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 8},
        {"id": "other"},
        {"type": "center.revoked"},
        {"subject_type": "application"},
        {"subject_id": "c-2"},
        {"actor_sub": "province-2"},
        {"actor_role": "observer"},
        {"occurred_at": datetime(2026, 12, 1, 8, 31, tzinfo=UTC)},
        {"effective_on": date(2026, 12, 1)},
        {"data": {"document_no": "豫科〔2026〕13号", "score": 91}},
        {"prev_hash": "b" * 64},
    ],
)
def test_every_field_enters_the_hash(change: dict[str, Any]) -> None:
    e = event(7, "a" * 64)
    assert replace(e, **change).compute_hash() != e.compute_hash()


def test_an_intact_chain_verifies_and_counts_its_events() -> None:
    assert verify_chain(chain(3)) == verify_chain(iter(chain(3)))
    check = verify_chain(chain(3))
    assert (check.ok, check.checked, check.first_bad_seq) == (True, 3, None)
    empty = verify_chain([])
    assert (empty.ok, empty.checked, empty.first_bad_seq) == (True, 0, None)


def test_a_page_of_the_chain_verifies_from_the_hash_and_seq_before_it() -> None:
    events = chain(4)
    rest = verify_chain(events[2:], previous_hash=events[1][1], expected_seq=3)
    assert (rest.ok, rest.checked, rest.first_bad_seq) == (True, 2, None)
    assert not verify_chain(events[2:]).ok  # from the genesis it is a gap
    assert not verify_chain(events[2:], previous_hash=events[0][1], expected_seq=3).ok
    assert not verify_chain(events[2:], previous_hash=events[1][1], expected_seq=2).ok


def test_an_edited_event_breaks_the_chain_at_its_seq() -> None:
    events = chain(4)
    edited, stored = events[2]
    events[2] = (replace(edited, data={"document_no": "forged"}), stored)
    check = verify_chain(events)
    assert (check.ok, check.checked, check.first_bad_seq) == (False, 3, 3)


def test_a_missing_event_breaks_the_chain_where_the_gap_is() -> None:
    events = chain(4)
    del events[1]
    check = verify_chain(events)
    assert (check.ok, check.checked, check.first_bad_seq) == (False, 2, 3)


def test_a_relinked_event_breaks_the_chain() -> None:
    events = chain(3)
    second, _ = events[1]
    relinked = replace(second, prev_hash="f" * 64)
    events[1] = (relinked, relinked.compute_hash())
    check = verify_chain(events)
    assert (check.ok, check.first_bad_seq) == (False, 2)
