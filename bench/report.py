"""The run's report as Markdown: every measurement, the ratios to the baselines, p50 growth, audited writes side by side
with their floor and pgbench's ceilings (issue 14), and the targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.config import BenchConfig

if TYPE_CHECKING:
    from bench.run import Result


def _find(results: Sequence[Result], scenario: str, app: str, size: int, workers: int = 1) -> Result | None:
    for result in results:
        if (result.scenario, result.app, result.size, result.workers) == (scenario, app, size, workers):
            return result
    return None


def _ratio(a: float | None, b: float | None) -> float:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


def _fmt(value: float, digits: int = 2) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0%}"


def _size(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def render(
    config: BenchConfig,
    facts: dict[str, Any],
    results: Sequence[Result],
    seeding: dict[str, float],
    feed: dict[str, Any],
    profiles: dict[str, str],
    total_s: float,
) -> str:
    out: list[str] = []
    pg = facts["postgres"]
    out += [
        "## Machine",
        "",
        f"- {facts['nproc']} CPUs: {facts['cpu']}; {facts['memory_gib']} GiB; Linux {facts['kernel']}",
        f"- Python {facts['python']}; " + ", ".join(f"{k} {v}" for k, v in facts["packages"].items()),
        f"- PostgreSQL {pg['server_version']} (shared_buffers {pg.get('shared_buffers')}, "
        f"work_mem {pg.get('work_mem')}, max_connections {pg.get('max_connections')}, "
        f"synchronous_commit {pg.get('synchronous_commit')})",
        f"- sizes {config.sizes}, {config.events} feed events at the largest size, {_fmt(config.duration, 0)} s per "
        f"scenario after {_fmt(config.warmup, 0)} s warm-up, {config.connections} connections (obligations and stats: "
        f"1 connection, i.e. the latency of one report), workers {config.workers}",
        "- seeding (s): " + ", ".join(f"{_size(int(k))}: {v:.0f}" for k, v in seeding.items()),
        f"- whole run: {total_s / 60:.1f} min",
        "",
        "## Measurements",
        "",
        "| scenario | app | centers | workers | conns | req/s | p50 ms | p99 ms | errors | ×floor | ×ORM "
        "| server CPU ms/request | CPU client / server / machine (idle before) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        floor = orm = math.nan
        if r.app == "service" and r.scenario in ("get", "page"):
            base_floor = _find(results, r.scenario, "floor", r.size, r.workers)
            base_orm = _find(results, r.scenario, "orm", r.size, r.workers)
            floor = _ratio(r.rps, base_floor.rps if base_floor else None)
            orm = _ratio(r.rps, base_orm.rps if base_orm else None)
        elif r.app == "service" and r.scenario == "transitions" and r.workers == 1:
            # A transition's floor is the write floor (1 worker, as issue 14 compares them).
            base_floor = _find(results, r.scenario, "write_floor", r.size)
            floor = _ratio(r.rps, base_floor.rps if base_floor else None)
        out.append(
            f"| {r.scenario} | {r.app} | {_size(r.size)} | {r.workers} | {r.connections} | {r.rps:.0f} | "
            f"{_fmt(r.p50_ms)} | {_fmt(r.p99_ms)} | {r.errors} | {_fmt(floor)} | {_fmt(orm)} | "
            f"{_fmt(r.server_cpu_ms)} | "
            f"{r.client_cpu:.0%} / {_percent(r.server_cpu)} / {r.machine_busy:.0%} ({r.background:.0%}) |"
        )
    sizes = config.sizes
    out += [
        "",
        "## p50 growth with the number of centers (1 worker)",
        "",
        "| scenario | app | "
        + " | ".join(f"p50 ms at {_size(s)}" for s in sizes)
        + f" | {_size(sizes[-1])} ÷ {_size(sizes[0])} |",
        "|---|---|" + "---:|" * (len(sizes) + 1),
    ]
    for scenario in ("get", "page", "stats", "obligations"):
        for app in ("service", "floor", "orm"):
            row = [_find(results, scenario, app, s) for s in sizes]
            if not any(row):
                continue
            first, last = row[0], row[-1]
            growth = _ratio(last.p50_ms if last else None, first.p50_ms if first else None)
            cells = " | ".join(_fmt(r.p50_ms) if r else "–" for r in row)
            out.append(f"| {scenario} | {app} | {cells} | {_fmt(growth)} |")

    largest, smallest = sizes[-1], sizes[0]
    obligations_size = max((s for s in sizes if s <= config.obligations_max_size), default=None)
    get, page = _find(results, "get", "service", largest), _find(results, "page", "service", largest)
    writes = _find(results, "transitions", "service", largest)
    page_small = _find(results, "page", "service", smallest)
    obligations = _find(results, "obligations", "service", obligations_size) if obligations_size else None
    stats = _find(results, "stats", "service", largest)

    def rps(scenario: str, app: str) -> float | None:
        found = _find(results, scenario, app, largest)
        return found.rps if found else None

    writers = [
        ("service", "the service (audited, hash-chained feed)"),
        ("write_floor", "write floor: FastAPI + asyncpg, same 4 statements, no feed lock"),
        ("pgbench-chained", "pgbench chained-lock ceiling: + feed lock and head read"),
        ("pgbench-unchained", "pgbench unchained: same statements, no feed lock"),
    ]
    if any(_find(results, "transitions", app, largest) for app, _ in writers[1:]):
        out += [
            "",
            f"## Audited writes side by side (issue 14; 1 worker, {_size(largest)} centers, "
            f"{config.connections} clients, same duration)",
            "",
            "| writer | tx/s | p50 ms | p99 ms | errors | service ÷ this |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for app, label in writers:
            found = _find(results, "transitions", app, largest)
            if found is None:
                out.append(f"| {label} | – | – | – | – | – |")
                continue
            share = _ratio(writes.rps if writes else None, found.rps) if app != "service" else math.nan
            out.append(
                f"| {label} | {found.rps:.0f} | {_fmt(found.p50_ms)} | {_fmt(found.p99_ms)} | {found.errors} | "
                f"{_fmt(share)} |"
            )

    targets: list[tuple[str, str, float, bool | None]] = []

    def target(
        name: str, measured: float, limit: float, at_least: bool, unit: str = "", *, above: bool = False
    ) -> None:
        if above:
            met = not math.isnan(measured) and measured > limit
            targets.append((name, f"> {limit:g}{unit}", measured, met))
            return
        met = not math.isnan(measured) and (measured >= limit if at_least else measured <= limit)
        targets.append((name, f"{'≥' if at_least else '≤'} {limit:g}{unit}", measured, met))

    at = _size(largest)
    target(
        f"single read, ÷ asyncpg floor (req/s, {at})", _ratio(get.rps if get else None, rps("get", "floor")), 0.6, True
    )
    target(f"single read, ÷ ORM baseline (req/s, {at})", _ratio(get.rps if get else None, rps("get", "orm")), 2, True)
    target(f"single read p99 ({at})", get.p99_ms if get else math.nan, 50, False, " ms")
    # Issue 13 raised the page targets from 0.6× the floor and 2× the ORM baseline, and added the CPU per transition.
    target(
        f"page of 50, ÷ asyncpg floor (req/s, {at})",
        _ratio(page.rps if page else None, rps("page", "floor")),
        0.8,
        True,
    )
    target(f"page of 50, ÷ ORM baseline (req/s, {at})", _ratio(page.rps if page else None, rps("page", "orm")), 3, True)
    target(f"transitions/s with the hash-chained feed ({at})", writes.rps if writes else math.nan, 300, True, "/s")
    target(f"transition p99 ({at})", writes.p99_ms if writes else math.nan, 100, False, " ms")
    # Issue 14: audited transitions against their own floor and PostgreSQL's ceilings, measured in the same run.
    served = writes.rps if writes else None
    target(
        f"audited transitions ÷ write floor (tx/s, {at})", _ratio(served, rps("transitions", "write_floor")), 0.6, True
    )
    target(
        f"audited transitions ÷ pgbench chained-lock ceiling (tx/s, {at})",
        _ratio(served, rps("transitions", "pgbench-chained")),
        1,
        True,
        "×",
        above=True,
    )
    targets.append(
        (
            f"audited transitions ÷ pgbench unchained, the ceiling to approach (tx/s, {at})",
            "reported",
            _ratio(served, rps("transitions", "pgbench-unchained")),
            None,
        )
    )
    tree_size = int(feed.get("tree_size") or 0)
    events = (f"{tree_size / 1e6:g}M" if tree_size >= 1_000_000 else _size(tree_size)) if tree_size else "the seeded"
    proof, checkpoint = _find(results, "proof", "service", largest), _find(results, "checkpoint", "service", largest)
    target(f"inclusion proof p50 over {events} events", proof.p50_ms if proof else math.nan, 5, False, " ms")
    target(f"checkpoint p50 over {events} events", checkpoint.p50_ms if checkpoint else math.nan, 2, False, " ms")
    target(
        f"server CPU per transition ({at})",
        writes.server_cpu_ms if writes else math.nan,
        2,
        False,
        " ms",
    )
    target(
        f"cursor page p50 at {at} ÷ at {_size(smallest)}",
        _ratio(page.p50_ms if page else None, page_small.p50_ms if page_small else None),
        1.5,
        False,
        "×",
    )
    if obligations_size:
        target(
            f"obligations p50 over {_size(obligations_size)} centers",
            obligations.p50_ms if obligations else math.nan,
            1000,
            False,
            " ms",
        )
    target(f"stats by field p50 over {at} centers", stats.p50_ms if stats else math.nan, 100, False, " ms")
    out += ["", "## Targets (1 worker)", "", "| target | wanted | measured | met |", "|---|---|---:|---|"]
    out += [
        f"| {name} | {wanted} | {_fmt(measured)} | {'–' if met is None else 'yes' if met else '**no**'} |"
        for name, wanted, measured, met in targets
    ]
    if feed:
        out += [
            "",
            f"Feed after the write scenarios: {feed.get('total')} events; chain re-checked from seq "
            f"{feed.get('first_seq')} ({feed.get('checked')} events): {'intact' if feed.get('ok') else 'BROKEN'}; "
            f"{feed.get('recommended')} `recommend` transitions in history.",
        ]
    if feed.get("proofs_asked"):
        out += [
            "",
            f"Merkle tree: {feed.get('tree_size')} leaves integrated by the seed; {feed.get('proofs_verified')} of "
            f"{feed.get('proofs_asked')} inclusion proofs served by the service verify (RFC 9162) against their root.",
        ]
    for name, summary in profiles.items():
        out += ["", f"## Profile: {name} (service, 1 worker, {at} centers)", "", "```", summary, "```"]
    return "\n".join(out) + "\n"
