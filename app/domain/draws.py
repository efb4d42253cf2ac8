"""Random panel draws (专家抽取) and invitations (issue 17 §1): pure, deterministic, reproducible by anyone.

A draw is a function of a seed and a pool snapshot only. The service publishes SHA-256(seed) and the snapshot's
digest before it draws, and the seed after, so anyone holding the snapshot can re-run `draw` and check the panel.
The snapshot names experts by pseudonyms (`pseudonym`), so re-running it reveals no identity; only the province
holds the pseudonym → expert map.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.domain.errors import RuleViolation

SEED_BYTES = 32
# Bounds of a drawn panel: at least the rule set's minimum, at most this many members and backups. Panels of 5–9 are
# the practice; 15 leaves room for large interdisciplinary reviews, and PUT panel accepts up to 50 by hand.
MAX_DRAW_SIZE = 15
MAX_BACKUPS = 10
DEFAULT_BACKUPS = 2
# Defaults of the settings TIC_EXPERT_PANEL_CAP, TIC_EXPERT_REPLY_DAYS and TIC_SCORE_DAYS (issue 17 §1).
DEFAULT_PANEL_CAP = 3
DEFAULT_REPLY_DAYS = 3
DEFAULT_SCORE_DAYS = 14


@dataclass(frozen=True, slots=True)
class ReviewTerms:
    """The configured terms of draws and invitations (TIC_EXPERT_PANEL_CAP, TIC_EXPERT_REPLY_DAYS, TIC_SCORE_DAYS)."""

    panel_cap: int = DEFAULT_PANEL_CAP
    reply_days: int = DEFAULT_REPLY_DAYS
    score_days: int = DEFAULT_SCORE_DAYS


@dataclass(frozen=True, slots=True)
class PoolEntry:
    """One expert of the pool as the draw sees it: a pseudonym and the attributes the draw uses."""

    ref: str
    category: str
    fields: tuple[str, ...]
    active: bool
    conflicted: bool
    load: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "category": self.category,
            "fields": list(self.fields),
            "active": self.active,
            "conflicted": self.conflicted,
            "load": self.load,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PoolEntry:
        return cls(
            ref=str(data["ref"]),
            category=str(data["category"]),
            fields=tuple(str(f) for f in data["fields"]),
            active=bool(data["active"]),
            conflicted=bool(data["conflicted"]),
            load=int(data["load"]),
        )


@dataclass(frozen=True, slots=True)
class DrawParams:
    """What is drawn: for which field, how many members and backups, the minimum per category, the workload cap."""

    field: str
    size: int
    backups: int
    mix: tuple[tuple[str, int], ...]
    cap: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "size": self.size,
            "backups": self.backups,
            "category_mix": dict(self.mix),
            "cap": self.cap,
        }


@dataclass(frozen=True, slots=True)
class DrawResult:
    """The drawn members and backups (pseudonyms), each in draw order."""

    members: tuple[str, ...]
    backups: tuple[str, ...]


def seed_hash(seed: bytes) -> str:
    """The commitment published before the draw: SHA-256 of the seed, hex."""
    return hashlib.sha256(seed).hexdigest()


def pseudonym(draw_id: str, expert_id: str) -> str:
    """An expert's name in one draw's snapshot: 16 hex digits of SHA-256("draw id:expert id"). Different in every
    draw, so snapshots cannot be linked to each other or to an expert."""
    return hashlib.sha256(f"{draw_id}:{expert_id}".encode()).hexdigest()[:16]


def pool_digest(pool: Sequence[PoolEntry], params: DrawParams) -> str:
    """SHA-256 of the canonical JSON of the snapshot and the parameters: published with the seed hash, it fixes
    both before the seed is known."""
    canonical = json.dumps(
        {"pool": [e.as_dict() for e in pool], "params": params.as_dict()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def default_mix(categories: Sequence[str]) -> dict[str, int]:
    """The rule set's categories, one expert each (technical, financial, management [seed] 五、（二）)."""
    return dict.fromkeys(categories, 1)


def params_problems(
    size: int, backups: int, mix: Mapping[str, int], *, min_size: int, categories: Sequence[str]
) -> list[tuple[str, str]]:
    """(body field, message) for each problem of a draw request (422): `size` within min_size..15, `backups` within
    0..10, a `category_mix` that names only expert categories of the rule set, asks each of them at least once, and
    does not ask for more experts than `size`."""
    out: list[tuple[str, str]] = []
    if not min_size <= size <= MAX_DRAW_SIZE:
        out.append(("size", f"the panel size is between {min_size} and {MAX_DRAW_SIZE}"))
    if not 0 <= backups <= MAX_BACKUPS:
        out.append(("backups", f"the number of backups is between 0 and {MAX_BACKUPS}"))
    unknown = [c for c in mix if c not in categories]
    if unknown:
        out.append(("category_mix", f"unknown categories: {', '.join(unknown)}"))
    short = [c for c in categories if mix.get(c, 0) < 1]
    if short:
        out.append(("category_mix", f"each of these categories needs at least one expert: {', '.join(short)}"))
    if sum(mix.values()) > size:
        out.append(("category_mix", f"the mix asks for {sum(mix.values())} experts, more than the size {size}"))
    return out


def eligible(entry: PoolEntry, cap: int) -> bool:
    """May be drawn: active, without a conflict with the application, on fewer than `cap` panels of the call."""
    return entry.active and not entry.conflicted and entry.load < cap


def rank(seed: bytes, entry: PoolEntry, field: str) -> tuple[int, str]:
    """The draw order: experts of the application's field first, then by SHA-256(seed ‖ pseudonym)."""
    return (0 if field in entry.fields else 1, hashlib.sha256(seed + entry.ref.encode()).hexdigest())


def draw(seed: bytes, pool: Sequence[PoolEntry], params: DrawParams) -> DrawResult:
    """Draw a panel: the same seed and snapshot always give the same result (issue 17 §1).

    Only eligible experts are drawn. Seats are filled in rank order: first each category's minimum of the mix
    (categories in the mix's order), then the remaining seats from everyone left; the backups are the next
    `backups` in rank order. Members are listed in rank order. Too few eligible experts for a category or for the
    size → RuleViolation `draw-pool-too-small` naming what is short. Fewer backups than asked is not an error.
    """
    ranked = sorted((e for e in pool if eligible(e, params.cap)), key=lambda e: rank(seed, e, params.field))
    chosen: set[str] = set()
    for category, count in params.mix:
        of_category = [e.ref for e in ranked if e.category == category and e.ref not in chosen][:count]
        if len(of_category) < count:
            raise _too_small(category=category, needed=count, available=len(of_category))
        chosen.update(of_category)
    for entry in ranked:
        if len(chosen) >= params.size:
            break
        chosen.add(entry.ref)
    if len(chosen) < params.size:
        raise _too_small(category=None, needed=params.size, available=len(chosen))
    members = tuple(e.ref for e in ranked if e.ref in chosen)
    backups = tuple(e.ref for e in ranked if e.ref not in chosen)[: params.backups]
    return DrawResult(members=members, backups=backups)


def _too_small(*, category: str | None, needed: int, available: int) -> RuleViolation:
    what_zh = f"{category} 类" if category else ""
    what_en = f"{category} " if category else ""
    return RuleViolation(
        "draw-pool-too-small",
        f"可抽取的{what_zh}专家不足：需要 {needed} 名，仅有 {available} 名",
        f"Too few eligible {what_en}experts to draw: {needed} needed, {available} available.",
        {"category": category, "needed": needed, "available": available},
    )


def next_backup(leaving_category: str, backups: Sequence[tuple[str, str]]) -> int | None:
    """Which of the remaining backups ((pseudonym, category) in draw order) replaces a member who declined or did
    not answer: the first of the same category, so the mix stays satisfied; else the first; None when none is left."""
    for index, (_, category) in enumerate(backups):
        if category == leaving_category:
            return index
    return 0 if backups else None


def reply_by(today: date, reply_days: int) -> date:
    """The last day an invited expert may answer: `reply_days` calendar days after the invitation. The invitation
    lapses the day after (app.db.repositories.draws.overdue: `reply_by < today`)."""
    return today + timedelta(days=reply_days)


def score_late(scores_due_on: date | None, today: date, *, scored: bool) -> bool:
    """A member who has not scored by the end of the scoring deadline is late (issue 17 §1)."""
    return not scored and scores_due_on is not None and today > scores_due_on


MAX_DECLARATIONS = 100


def declaration_problems(kind: str, until: date | None) -> list[tuple[str, str]]:
    """(body field, message) for each problem of a declared conflict (422): a former employer needs `until`, the
    day the expert left (its range, past and not before 1949-10-01, is checked at the edge); other kinds take none."""
    if kind != "former_employer":
        return [("until", "only a former employer has an end date")] if until is not None else []
    if until is None:
        return [("until", "the day the expert left the former employer is required")]
    return []
