"""The feed as a verifiable log (issue 14): signed checkpoints, inclusion and consistency proofs, and the key.

The checkpoint and the key are public (they reveal a size and a hash); a proof of inclusion carries the event itself,
so it is for those who read the feed (province, observer). The sequencer integrates each batch into the tree in the
transaction that puts it on the feed (app/services/sequencer.py), so the tree always holds the whole feed and a read
of the log is a plain read: the tree's size, then the O(log n) nodes its answer needs."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import events as events_repo
from app.db.repositories import log as repo
from app.domain import merkle
from app.domain.checkpoints import ORIGIN, Checkpoint, Signer, Verifier
from app.domain.principal import Principal
from app.services.errors import NotFound, ValidationFailed
from app.services.events import check_reader
from app.settings import Settings

KEY_FILE = "log-signing.key"


@lru_cache(maxsize=8)
def _signer_from(text: str) -> Signer:
    return Signer.parse(text)


@lru_cache(maxsize=1)
def _ephemeral() -> Signer:
    return Signer.generate(ORIGIN)


def signer(settings: Settings) -> Signer:
    """TIC_LOG_SIGNING_KEY when set (required in production); in development a key generated once into the data
    folder (readable by its owner only); in tests one per process."""
    if settings.log_signing_key is not None:
        return _signer_from(settings.log_signing_key.get_secret_value())
    if settings.environment == "test":
        return _ephemeral()
    return _development_key(settings.data_dir / KEY_FILE)


def _development_key(path: Path) -> Signer:
    if path.exists():
        return _signer_from(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Signer.generate(ORIGIN)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"{key}\n")
    return key


def verifier(settings: Settings) -> Verifier:
    return signer(settings).verifier


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str


async def _root(session: AsyncSession, size: int) -> bytes:
    plan = merkle.plan_root(size)
    return merkle.root_from(plan, await repo.nodes(session, plan.nodes))


async def checkpoint(session: AsyncSession, settings: Settings) -> SignedCheckpoint:
    size = await repo.tree_size(session)
    current = Checkpoint(origin=ORIGIN, size=size, root=await _root(session, size))
    return SignedCheckpoint(checkpoint=current, note=signer(settings).sign(current.body()))


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_index: int
    tree_size: int
    entry: str
    leaf_hash: bytes
    hashes: list[bytes]
    root: bytes


def _out_of_range(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([(("query", field), message, "value_error")])


async def _sized(session: AsyncSession, tree_size: int | None, field: str) -> tuple[int, int]:
    current = await repo.tree_size(session)
    size = current if tree_size is None else tree_size
    if size > current:
        raise _out_of_range(field, f"the log holds {current} entries; a tree of {size} has not been published")
    return size, current


async def inclusion(session: AsyncSession, principal: Principal, *, seq: int, tree_size: int | None) -> InclusionProof:
    check_reader(principal, "log")
    size, _ = await _sized(session, tree_size, "tree_size")
    if seq > size:
        raise _out_of_range("seq", f"event {seq} is not in a tree of {size} entries")
    record = await repo.event_at(session, seq)
    if record is None:  # pragma: no cover - the tree never grows past a gap in the feed, so a leaf has its event
        raise NotFound("event", str(seq))
    plan = merkle.plan_inclusion(seq - 1, size)
    root_plan = merkle.plan_root(size)
    stored = await repo.nodes(session, plan.nodes | root_plan.nodes)
    entry = repo.entry_bytes(record)
    return InclusionProof(
        seq=seq,
        leaf_index=seq - 1,
        tree_size=size,
        entry=entry.decode("utf-8"),
        leaf_hash=merkle.leaf_hash(entry),
        hashes=plan.assemble(stored),
        root=merkle.root_from(root_plan, stored),
    )


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    hashes: list[bytes]


async def consistency(session: AsyncSession, *, first: int, second: int | None) -> ConsistencyProof:
    size, _ = await _sized(session, second, "to")
    if first > size:
        raise _out_of_range("from", f"a consistency proof runs from a smaller tree to a larger one ({first} > {size})")
    plan = merkle.plan_consistency(first, size)
    first_plan, second_plan = merkle.plan_root(first), merkle.plan_root(size)
    stored = await repo.nodes(session, plan.nodes | first_plan.nodes | second_plan.nodes)
    return ConsistencyProof(
        first=first,
        second=size,
        first_root=merkle.root_from(first_plan, stored),
        second_root=merkle.root_from(second_plan, stored),
        hashes=plan.assemble(stored),
    )


@dataclass(frozen=True)
class TreeCheck:
    ok: bool
    size: int
    stored_root: bytes
    computed_root: bytes


async def check_tree(session: AsyncSession) -> TreeCheck:
    """Recompute every node of the tree from the events and compare each with the stored one: an event or a node
    edited behind the triggers' back shows as a difference (a proof through it would no longer verify), and so does
    an event missing under the tree. The events the sequencer appends meanwhile (this is a plain read, each statement
    its own snapshot) are beyond the tree's size read first, and left for the next check."""
    size = await repo.tree_size(session)
    stored_root = await _root(session, size)
    frontier: dict[merkle.Node, bytes] = {}
    done, same = 0, True
    async for batch in events_repo.batches(session, upto=size):
        entries = [repo.entry_bytes(record) for record in batch]
        # Hashing grows with the feed: each batch is hashed in a worker thread, as the chain check does.
        created, frontier = await asyncio.to_thread(_extend, done, frontier, entries)
        same = same and await repo.nodes(session, created) == created
        done += len(batch)
    computed = merkle.fold([frontier[node] for node in merkle.frontier_nodes(done)])
    return TreeCheck(
        ok=same and computed == stored_root and done == size,
        size=size,
        stored_root=stored_root,
        computed_root=computed,
    )


def _extend(
    size: int, frontier: dict[merkle.Node, bytes], entries: list[bytes]
) -> tuple[dict[merkle.Node, bytes], dict[merkle.Node, bytes]]:
    """The nodes appending `entries` to a tree of `size` (right edge `frontier`) creates, and the new right edge."""
    created = merkle.new_nodes(size, frontier, [merkle.leaf_hash(entry) for entry in entries])
    everything = {**frontier, **created}
    return created, {node: everything[node] for node in merkle.frontier_nodes(size + len(entries))}
