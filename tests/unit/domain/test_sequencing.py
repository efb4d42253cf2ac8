"""The sequencer's pure part (issue 14): appended events placed after the feed's head, in the order given, with
consecutive seqs and each linked to the hash before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import pairwise

from app.domain.events import GENESIS_HASH, Event, Unsequenced, chain, verify_chain


def appended(n: int, **changes: object) -> Unsequenced:
    base = Unsequenced(
        id=f"00000000-0000-0000-0000-{n:012d}",
        type="application.submitted",
        subject_type="application",
        subject_id=f"a-{n % 3}",
        actor_sub="applicant-1",
        actor_role="applicant",
        occurred_at=datetime(2026, 12, 3, 9, 0, n, tzinfo=UTC),
        effective_on=date(2026, 12, 3) if n % 2 else None,
        data={"action": "submit", "n": n},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_empty_feed_starts_at_seq_1_after_the_genesis_hash() -> None:
    [(first, digest)] = chain([appended(1)], head_seq=0, head_hash=GENESIS_HASH)
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert digest == first.compute_hash()
    assert verify_chain([(first, digest)]).ok


def test_a_batch_continues_the_feed_with_consecutive_seqs_each_linked_to_the_one_before() -> None:
    head = chain([appended(n) for n in range(1, 6)], head_seq=0, head_hash=GENESIS_HASH)
    last, last_hash = head[-1]
    batch = chain([appended(n) for n in range(6, 10)], head_seq=last.seq, head_hash=last_hash)
    assert [e.seq for e, _ in batch] == [6, 7, 8, 9]
    assert batch[0][0].prev_hash == last_hash
    assert all(later.prev_hash == earlier_hash for (_, earlier_hash), (later, _) in pairwise(batch))
    assert verify_chain(head + batch).ok
    assert verify_chain(batch, previous_hash=last_hash, expected_seq=6).ok


def test_the_order_given_is_the_feed_order_and_every_field_is_kept() -> None:
    entries = [appended(3), appended(1), appended(2)]
    placed = chain(entries, head_seq=41, head_hash="ab" * 32)
    assert [e.id for e, _ in placed] == [entry.id for entry in entries]
    for entry, (event, _) in zip(entries, placed, strict=True):
        assert event == Event(
            seq=event.seq,
            id=entry.id,
            type=entry.type,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            actor_sub=entry.actor_sub,
            actor_role=entry.actor_role,
            occurred_at=entry.occurred_at,
            effective_on=entry.effective_on,
            data=entry.data,
            prev_hash=event.prev_hash,
        )
    assert [e.seq for e, _ in placed] == [42, 43, 44]


def test_the_same_events_after_another_head_hash_differently() -> None:
    entries = [appended(1), appended(2)]
    one = chain(entries, head_seq=10, head_hash="00" * 32)
    other = chain(entries, head_seq=10, head_hash="11" * 32)
    assert [h for _, h in one] != [h for _, h in other]
    assert not verify_chain(one, previous_hash="11" * 32, expected_seq=11).ok


def test_nothing_to_place_places_nothing() -> None:
    assert chain([], head_seq=7, head_hash="cd" * 32) == []
