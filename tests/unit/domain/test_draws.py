"""Panel draws and conflicts (issue 17 §1): the recusal rule, the deterministic draw, backups and deadlines."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import draws
from app.domain.draws import DrawParams, DrawResult, PoolEntry
from app.domain.errors import ConflictOfInterest, RuleViolation
from app.domain.review import Declaration, ExpertProfile, check_panel, conflict_of

TODAY = date(2026, 12, 3)
LEAD, PARTNER, ELSEWHERE = "org-lead", "org-partner", "org-elsewhere"
INVOLVED = (LEAD, PARTNER)
SEED = bytes(range(32))
MIX = (("technical", 1), ("financial", 1), ("management", 1))


def profile(
    affiliation: str | None = None,
    declared: frozenset[str] = frozenset(),
    declarations: tuple[Declaration, ...] = (),
) -> ExpertProfile:
    return ExpertProfile("e1", "Expert", "technical", affiliation, declared, declarations)


# --- conflicts -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expert", "expected"),
    [
        (profile(), None),
        (profile(affiliation=ELSEWHERE), None),
        (profile(affiliation=LEAD), (LEAD, "affiliation")),
        (profile(affiliation=PARTNER), (PARTNER, "affiliation")),
        (profile(declared=frozenset({PARTNER})), (PARTNER, "declared_conflict")),
        (profile(declared=frozenset({ELSEWHERE})), None),
        (profile(declarations=(Declaration(LEAD, "affiliation"),)), (LEAD, "affiliation")),
        (profile(declarations=(Declaration(PARTNER, "relative"),)), (PARTNER, "relative")),
        (profile(declarations=(Declaration(LEAD, "other"),)), (LEAD, "declared_conflict")),
        (profile(declarations=(Declaration(ELSEWHERE, "relative"),)), None),
        # A former employer counts on and after the day three years before today, not the day before.
        (profile(declarations=(Declaration(LEAD, "former_employer", date(2023, 12, 3)),)), (LEAD, "former_employer")),
        (profile(declarations=(Declaration(LEAD, "former_employer", date(2023, 12, 2)),)), None),
        (profile(declarations=(Declaration(LEAD, "former_employer", TODAY),)), (LEAD, "former_employer")),
        (profile(declarations=(Declaration(LEAD, "former_employer", None),)), None),
        # The affiliation wins over declarations; organisations are looked at in the given order.
        (profile(affiliation=PARTNER, declarations=(Declaration(LEAD, "relative"),)), (PARTNER, "affiliation")),
        (
            profile(declarations=(Declaration(PARTNER, "relative"), Declaration(LEAD, "other"))),
            (LEAD, "declared_conflict"),
        ),
        (profile(declared=frozenset({PARTNER}), declarations=(Declaration(LEAD, "relative"),)), (LEAD, "relative")),
        (
            profile(
                declarations=(Declaration(LEAD, "former_employer", date(2020, 1, 1)), Declaration(LEAD, "relative"))
            ),
            (LEAD, "relative"),
        ),
    ],
)
def test_conflict_of_names_the_first_reason_to_recuse(expert: ExpertProfile, expected: tuple[str, str] | None) -> None:
    assert conflict_of(expert, INVOLVED, TODAY) == expected


def test_a_former_employer_left_on_29_february_counts_until_28_february_three_years_on() -> None:
    left = profile(declarations=(Declaration(LEAD, "former_employer", date(2024, 2, 29)),))
    assert conflict_of(left, INVOLVED, date(2027, 2, 28)) == (LEAD, "former_employer")
    assert conflict_of(left, INVOLVED, date(2027, 3, 1)) is None


def panel_of(*experts: ExpertProfile) -> list[ExpertProfile]:
    categories = ("technical", "financial", "management", "technical", "technical")
    return [
        ExpertProfile(f"e{i}", "X", categories[i], e.affiliation_org_id, e.declared_conflict_org_ids, e.declarations)
        for i, e in enumerate(experts)
    ]


def test_a_manual_panel_refuses_a_relative_declared_through_the_same_rule() -> None:
    members = panel_of(
        profile(), profile(), profile(), profile(), profile(declarations=(Declaration(PARTNER, "relative"),))
    )
    with pytest.raises(ConflictOfInterest) as caught:
        check_panel(members, INVOLVED, min_size=5, categories=("technical",), today=TODAY)
    assert (caught.value.expert_id, caught.value.org_id, caught.value.cause) == ("e4", PARTNER, "relative")


def test_a_manual_panel_judges_a_former_employer_on_the_day_given() -> None:
    left = Declaration(LEAD, "former_employer", date(2020, 1, 1))
    members = panel_of(profile(), profile(), profile(), profile(), profile(declarations=(left,)))
    check_panel(members, INVOLVED, min_size=5, categories=("technical",), today=TODAY)
    # Without a day, a declared former employer always counts.
    with pytest.raises(ConflictOfInterest) as caught:
        check_panel(members, INVOLVED, min_size=5, categories=("technical",))
    assert caught.value.cause == "former_employer"


# --- declarations ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "until", "expected"),
    [
        ("relative", None, []),
        ("affiliation", None, []),
        ("other", None, []),
        ("relative", TODAY, [("until", "only a former employer has an end date")]),
        ("former_employer", None, [("until", "the day the expert left the former employer is required")]),
        ("former_employer", TODAY, []),
    ],
)
def test_declaration_problems(kind: str, until: date | None, expected: list[tuple[str, str]]) -> None:
    assert draws.declaration_problems(kind, until) == expected


# --- parameters ------------------------------------------------------------------------------------------------------

CATS = ("technical", "financial", "management")
ONE_EACH = {"technical": 1, "financial": 1, "management": 1}


@pytest.mark.parametrize(
    ("size", "backups", "mix", "expected"),
    [
        (5, 2, ONE_EACH, []),
        (15, 0, ONE_EACH, []),
        (5, 10, ONE_EACH, []),
        (4, 2, ONE_EACH, [("size", "the panel size is between 5 and 15")]),
        (16, 2, ONE_EACH, [("size", "the panel size is between 5 and 15")]),
        (5, -1, ONE_EACH, [("backups", "the number of backups is between 0 and 10")]),
        (5, 11, ONE_EACH, [("backups", "the number of backups is between 0 and 10")]),
        (5, 2, {**ONE_EACH, "legal": 1}, [("category_mix", "unknown categories: legal")]),
        (
            5,
            2,
            {"technical": 3, "financial": 0},
            [("category_mix", "each of these categories needs at least one expert: financial, management")],
        ),
        (5, 2, {"technical": 3, "financial": 1, "management": 1}, []),
        (
            5,
            2,
            {"technical": 4, "financial": 1, "management": 1},
            [("category_mix", "the mix asks for 6 experts, more than the size 5")],
        ),
    ],
)
def test_params_problems(size: int, backups: int, mix: dict[str, int], expected: list[tuple[str, str]]) -> None:
    assert draws.params_problems(size, backups, mix, min_size=5, categories=CATS) == expected


def test_the_default_mix_asks_one_expert_of_each_category() -> None:
    assert draws.default_mix(CATS) == {"technical": 1, "financial": 1, "management": 1}


# --- the draw --------------------------------------------------------------------------------------------------------


def entry(ref: str, category: str = "technical", *, field: str = "green_food", **kw: object) -> PoolEntry:
    values: dict[str, object] = {"active": True, "conflicted": False, "load": 0, **kw}
    return PoolEntry(ref, category, (field,), bool(values["active"]), bool(values["conflicted"]), int(values["load"]))  # type: ignore[call-overload]


def params(size: int = 3, backups: int = 2, mix: tuple[tuple[str, int], ...] = MIX, cap: int = 3) -> DrawParams:
    return DrawParams(field="green_food", size=size, backups=backups, mix=mix, cap=cap)


POOL = [
    entry("t1"),
    entry("t2"),
    entry("t3", field="biomedicine"),
    entry("f1", "financial"),
    entry("f2", "financial"),
    entry("m1", "management"),
    entry("m2", "management", field="biomedicine"),
]


def order(seed: bytes, refs: list[str]) -> list[str]:
    return sorted(refs, key=lambda r: hashlib.sha256(seed + r.encode()).hexdigest())


def test_the_rank_puts_the_field_first_then_the_seeded_hash() -> None:
    assert draws.rank(SEED, entry("t1"), "green_food") == (0, hashlib.sha256(SEED + b"t1").hexdigest())
    assert draws.rank(SEED, entry("t3", field="biomedicine"), "green_food")[0] == 1


def test_a_draw_is_the_seeded_order_with_the_field_first() -> None:
    result = draws.draw(SEED, POOL, params(size=5, backups=2))
    in_field = order(SEED, ["t1", "t2", "f1", "f2", "m1"])
    ranked = in_field + order(SEED, ["t3", "m2"])
    # One of each category first, in the mix's order, then the best-ranked of the rest.
    chosen: list[str] = []
    for category in ("technical", "financial", "management"):
        chosen.append(next(r for r in ranked if r[0] == category[0] and r not in chosen))
    for ref in ranked:
        if len(chosen) < 5 and ref not in chosen:
            chosen.append(ref)
    assert result.members == tuple(r for r in ranked if r in chosen)
    assert result.backups == tuple(r for r in ranked if r not in chosen)[:2]


def test_the_same_seed_and_snapshot_always_give_the_same_panel_and_another_seed_may_not() -> None:
    first = draws.draw(SEED, POOL, params())
    assert draws.draw(SEED, list(POOL), params()) == first
    assert draws.draw(SEED, list(reversed(POOL)), params()) == first
    others = {draws.draw(bytes([i]) * 32, POOL, params()) for i in range(20)}
    assert len(others) > 1


@pytest.mark.parametrize(
    ("excluded", "why"),
    [
        (entry("x", active=False), "inactive"),
        (entry("x", conflicted=True), "conflicted"),
        (entry("x", load=3), "at the cap"),
        (entry("x", load=4), "over the cap"),
    ],
)
def test_an_ineligible_expert_is_never_drawn_nor_a_backup(excluded: PoolEntry, why: str) -> None:
    pool = [*POOL, excluded]
    result = draws.draw(SEED, pool, params(size=7, backups=5))
    assert "x" not in result.members + result.backups, why


def test_an_expert_one_below_the_cap_is_still_drawn() -> None:
    pool = [entry("t1", load=2), entry("f1", "financial", load=2), entry("m1", "management")]
    assert set(draws.draw(SEED, pool, params(cap=3)).members) == {"t1", "f1", "m1"}


def test_a_mix_asking_more_of_one_category_is_satisfied() -> None:
    result = draws.draw(SEED, POOL, params(size=5, mix=(("technical", 3), ("financial", 1), ("management", 1))))
    assert sorted(r for r in result.members if r.startswith("t")) == ["t1", "t2", "t3"]


def test_fewer_backups_than_asked_is_not_an_error() -> None:
    result = draws.draw(SEED, POOL, params(size=6, backups=5))
    assert len(result.members) == 6
    assert len(result.backups) == 1


@pytest.mark.parametrize(
    ("pool", "p", "data"),
    [
        (POOL[:3], params(), {"category": "financial", "needed": 1, "available": 0}),
        (
            POOL,
            params(mix=(("technical", 4), ("financial", 1), ("management", 1)), size=6),
            {"category": "technical", "needed": 4, "available": 3},
        ),
        (POOL, params(size=8), {"category": None, "needed": 8, "available": 7}),
    ],
)
def test_too_few_eligible_experts_is_refused_naming_what_is_short(
    pool: list[PoolEntry], p: DrawParams, data: dict[str, object]
) -> None:
    with pytest.raises(RuleViolation) as caught:
        draws.draw(SEED, pool, p)
    assert caught.value.code == "draw-pool-too-small"
    assert caught.value.data == data


def test_the_too_small_messages_name_the_category_or_not() -> None:
    with pytest.raises(RuleViolation) as caught:
        draws.draw(SEED, POOL[:3], params())
    assert caught.value.message_en == "Too few eligible financial experts to draw: 1 needed, 0 available."
    assert caught.value.message_zh == "可抽取的financial 类专家不足：需要 1 名，仅有 0 名"
    with pytest.raises(RuleViolation) as caught:
        draws.draw(SEED, POOL, params(size=8))
    assert caught.value.message_en == "Too few eligible experts to draw: 8 needed, 7 available."
    assert caught.value.message_zh == "可抽取的专家不足：需要 8 名，仅有 7 名"


categories = st.sampled_from(["technical", "financial", "management"])
pool_entries = st.lists(
    st.builds(
        PoolEntry,
        ref=st.text("0123456789abcdef", min_size=4, max_size=8),
        category=categories,
        fields=st.lists(st.sampled_from(["green_food", "biomedicine"]), max_size=2).map(tuple),
        active=st.booleans(),
        conflicted=st.booleans(),
        load=st.integers(0, 5),
    ),
    max_size=40,
    unique_by=lambda e: e.ref,
)


# Twice the profile's examples (200 by default; 50 under `make mutation`'s profile, tests/conftest.py): pools are wide.
@settings(max_examples=2 * settings.default.max_examples, deadline=None)
@given(pool=pool_entries, seed=st.binary(min_size=32, max_size=32), size=st.integers(3, 8), backups=st.integers(0, 4))
def test_any_draw_is_reproducible_and_never_holds_an_ineligible_expert(
    pool: list[PoolEntry], seed: bytes, size: int, backups: int
) -> None:
    p = params(size=size, backups=backups)
    try:
        result = draws.draw(seed, pool, p)
    except RuleViolation:
        return
    assert draws.draw(seed, list(reversed(pool)), p) == result
    by_ref = {e.ref: e for e in pool}
    drawn = result.members + result.backups
    assert len(set(drawn)) == len(drawn)
    assert len(result.members) == size
    assert all(draws.eligible(by_ref[r], p.cap) for r in drawn)
    assert {by_ref[r].category for r in result.members} >= {"technical", "financial", "management"}


# --- snapshot, commitments, backups and deadlines ---------------------------------------------------------------------


def test_the_commitments_are_sha256_of_the_seed_and_of_the_canonical_snapshot() -> None:
    assert draws.seed_hash(SEED) == hashlib.sha256(SEED).hexdigest()
    p = params()
    digest = draws.pool_digest(POOL[:1], p)
    canonical = (
        '{"params":{"backups":2,"cap":3,"category_mix":{"financial":1,"management":1,"technical":1},'
        '"field":"green_food","size":3},"pool":[{"active":true,"category":"technical","conflicted":false,'
        '"fields":["green_food"],"load":0,"ref":"t1"}]}'
    )
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    assert draws.pool_digest(POOL[:1], params(cap=4)) != digest


def test_a_pseudonym_is_16_hex_digits_of_the_draw_and_expert() -> None:
    assert draws.pseudonym("d", "e") == hashlib.sha256(b"d:e").hexdigest()[:16]
    assert draws.pseudonym("d2", "e") != draws.pseudonym("d", "e")


def test_a_pool_entry_round_trips_through_json() -> None:
    e = PoolEntry("ab", "financial", ("green_food",), False, True, 2)
    assert e.as_dict() == {
        "ref": "ab",
        "category": "financial",
        "fields": ["green_food"],
        "active": False,
        "conflicted": True,
        "load": 2,
    }
    assert PoolEntry.from_dict(e.as_dict()) == e


@pytest.mark.parametrize(
    ("leaving", "backups", "expected"),
    [
        ("financial", [("b1", "technical"), ("b2", "financial")], 1),
        ("technical", [("b1", "technical"), ("b2", "financial")], 0),
        ("management", [("b1", "technical"), ("b2", "financial")], 0),
        ("management", [], None),
    ],
)
def test_the_backup_called_in_keeps_the_category_when_it_can(
    leaving: str, backups: list[tuple[str, str]], expected: int | None
) -> None:
    assert draws.next_backup(leaving, backups) == expected


def test_reply_and_score_deadlines() -> None:
    assert draws.reply_by(TODAY, 3) == date(2026, 12, 6)
    assert not draws.score_late(TODAY, TODAY, scored=False)
    assert draws.score_late(TODAY, date(2026, 12, 4), scored=False)
    assert not draws.score_late(TODAY, date(2026, 12, 4), scored=True)
    assert not draws.score_late(None, date(2026, 12, 4), scored=False)


def test_draw_params_describe_themselves() -> None:
    assert params().as_dict() == {
        "field": "green_food",
        "size": 3,
        "backups": 2,
        "category_mix": {"technical": 1, "financial": 1, "management": 1},
        "cap": 3,
    }
    assert DrawResult(("a",), ()) == DrawResult(("a",), ())


def test_the_configured_terms_default_to_a_cap_of_3_panels_3_days_to_reply_and_14_to_score() -> None:
    assert draws.ReviewTerms() == draws.ReviewTerms(panel_cap=3, reply_days=3, score_days=14)
    assert (draws.SEED_BYTES, draws.DEFAULT_BACKUPS, draws.MAX_DECLARATIONS) == (32, 2, 100)
