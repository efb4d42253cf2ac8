"""The feed as a verifiable log: signed checkpoints, inclusion and consistency proofs, and the public key (issue 14).

Proof hashes are standard base64, as in C2SP checkpoints; leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖
right) (RFC 9162 §2.1), where `entry` is the event's canonical JSON (sorted keys, no spaces, UTF-8): the very bytes
whose SHA-256 is the event's chain `hash` in `GET /events`, so the holder of an event can tell an entry is its own."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from app.api.deps import PrincipalDep, SessionDep
from app.api.ops import TOO_LARGE
from app.api.problems import responses
from app.domain.checkpoints import ORIGIN
from app.services import log as service

# Plain reads, in autocommit: the sequencer keeps the tree up to the feed (app/services/log.py).
router = APIRouter(prefix="/log", tags=["log"])

NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class LogKey(BaseModel):
    origin: str = Field(examples=[ORIGIN])
    algorithm: str = Field(examples=["ed25519"])
    verifier_key: str = Field(
        description="The key in C2SP signed-note verifier format: <name>+<key id hex>+<base64(0x01 ‖ public key)>."
    )
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64.")


class InclusionProofRead(BaseModel):
    seq: int
    leaf_index: int = Field(description="seq - 1: leaves are counted from 0.")
    tree_size: int
    entry: str = Field(
        description="The event's canonical JSON (UTF-8): SHA-256(entry) is the event's `hash` in the feed, and "
        "SHA-256(0x00 ‖ entry) is `leaf_hash`."
    )
    leaf_hash: str
    hashes: list[str] = Field(description="The RFC 9162 inclusion path, leaf to root, base64.")
    root: str = Field(description="The root of the tree of `tree_size` entries, base64 (as in its checkpoint).")


class ConsistencyProofRead(BaseModel):
    """RFC 9162 §2.1.4 names: `first` is the older tree size, `second` the newer."""

    first: int
    second: int
    first_root: str
    second_root: str
    hashes: list[str] = Field(description="The RFC 9162 consistency proof, base64.")


@router.get(
    "/checkpoint",
    operation_id="get_log_checkpoint",
    response_class=PlainTextResponse,
    responses={
        **TOO_LARGE,
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "A signed note."},
    },
)
async def get_checkpoint(request: Request, session: SessionDep) -> PlainTextResponse:
    """The latest checkpoint of the whole feed, signed: a C2SP `tlog-checkpoint` (origin, tree size, root in base64) in
    a C2SP `signed-note` envelope with an Ed25519 signature. Public: it reveals a size and a hash."""
    signed = await service.checkpoint(session, request.app.state.settings)
    return PlainTextResponse(signed.note, media_type=NOTE_MEDIA_TYPE)


@router.get("/key", operation_id="get_log_key", response_model=LogKey, responses=TOO_LARGE)
async def get_key(request: Request) -> LogKey:
    """The public key checkpoints are signed with. Public."""
    verifier = service.verifier(request.app.state.settings)
    return LogKey(origin=ORIGIN, algorithm="ed25519", verifier_key=str(verifier), public_key=_b64(verifier.public))


@router.get(
    "/proof/inclusion",
    operation_id="get_log_inclusion_proof",
    response_model=InclusionProofRead,
    responses=responses("not-found"),
)
async def get_inclusion_proof(
    session: SessionDep,
    principal: PrincipalDep,
    seq: Annotated[int, Query(ge=1, le=2**62, description="The event's seq.")],
    tree_size: Annotated[
        int | None, Query(ge=1, le=2**62, description="The tree to prove against; the latest when omitted.")
    ] = None,
) -> InclusionProofRead:
    """That the event `seq` is in the tree of `tree_size` entries (province, observer: the proof carries the event)."""
    proof = await service.inclusion(session, principal, seq=seq, tree_size=tree_size)
    return InclusionProofRead(
        seq=proof.seq,
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        entry=proof.entry,
        leaf_hash=_b64(proof.leaf_hash),
        hashes=[_b64(h) for h in proof.hashes],
        root=_b64(proof.root),
    )


@router.get(
    "/proof/consistency",
    operation_id="get_log_consistency_proof",
    response_model=ConsistencyProofRead,
    responses={**TOO_LARGE, 422: responses()[422]},
)
async def get_consistency_proof(
    session: SessionDep,
    first: Annotated[int, Query(alias="from", ge=1, le=2**62, description="The older tree size.")],
    second: Annotated[
        int | None, Query(alias="to", ge=1, le=2**62, description="The newer tree size; the latest when omitted.")
    ] = None,
) -> ConsistencyProofRead:
    """That the tree of `from` entries is a prefix of the tree of `to` entries. Public: it holds only hashes."""
    proof = await service.consistency(session, first=first, second=second)
    return ConsistencyProofRead(
        first=proof.first,
        second=proof.second,
        first_root=_b64(proof.first_root),
        second_root=_b64(proof.second_root),
        hashes=[_b64(h) for h in proof.hashes],
    )
