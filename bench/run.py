"""`make bench`: seed, serve, load, compare with the baselines, check the targets of issues 8, 13 and 14.

    make bench                                  # 1k, 10k, 100k centers; 1M events; 10 s per scenario
    make bench BENCH_QUICK=1                    # smoke run: 200 and 1k centers, 3 s per scenario
    BENCH_SIZES=1000,100000 BENCH_DURATION=20 make bench
    BENCH_PROFILE=1 make bench                  # also py-spy the service's scenarios at the largest size
    TIC_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres make bench   # a server of yours (fresh db)

Every run creates a fresh database, grows it through the sizes, and for each size starts each app (the service,
the asyncpg floor, the ORM baseline) in turn with one worker, drives it from a separate load process, and stops it;
at the largest size it repeats the read and write scenarios with more workers. Results go to bench/results/.

At the largest size the feed holds BENCH_EVENTS events with their Merkle tree integrated by the seed, and the service
also answers inclusion proofs (random seq, the seeded tree's size) and checkpoints. After every service scenario
(the feed's chain is re-checked first), the audited-write comparisons of issue 14 run with one worker and the same
client count and duration as the service's transitions: the write floor (`bench/baselines/write_floor.py`: the same
four statements, no feed lock) and pgbench's chained-lock and unchained ceilings (`bench/sql/*.sql`, `bench.ceilings`).
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg

from app.api.auth import issue_token
from app.api.deps import encode_cursor
from app.domain import merkle
from app.domain.events import verify_chain
from bench import ceilings, database, profile, report, servers
from bench.config import AS_OF, AUTH_SECRET, BenchConfig
from bench.seed import Seeder, event_of

GET_SAMPLE = 2000
PAGE_SAMPLE = 500
PAGE = 50
PROOF_SAMPLE = 2000
PROOFS_VERIFIED = 20


@dataclass
class Plan:
    size: int
    supervisor: str
    province: str
    get_ids: list[str]
    cursors: list[str]
    offsets: list[int]
    reach: int
    tree_size: int = 0
    proof_seqs: list[int] = field(default_factory=list)


@dataclass
class Result:
    scenario: str
    app: str
    size: int
    workers: int
    connections: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    client_cpu: float
    server_cpu: float
    machine_busy: float
    background: float
    statuses: dict[str, int] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)
    used: int = 0
    # CPU seconds of the server's process tree over the whole load run ÷ every response it sent in that run (warm-up
    # included), in milliseconds: what one request costs the service, whatever else the machine is doing.
    server_cpu_ms: float = float("nan")


def ensure_tools(config: BenchConfig) -> None:
    """uvloop and httptools come with uvicorn[standard] (a dependency); install them if this venv lacks them."""
    if importlib.util.find_spec("uvloop") is None or importlib.util.find_spec("httptools") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "uvicorn[standard]"], check=True)
    if config.profile:
        profile.py_spy()


def machine_facts(url: str) -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
    packages = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg", "pydantic")
    return {
        "nproc": os.cpu_count(),
        "cpu": next((line.split(":", 1)[1].strip() for line in lscpu if line.startswith("Model name")), "?"),
        "lscpu": [
            line
            for line in lscpu
            if line.split(":")[0]
            in ("Architecture", "CPU(s)", "Model name", "Thread(s) per core", "Core(s) per socket")
        ],
        "memory_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in packages},
        "postgres": asyncio.run(database.server_facts(url)),
    }


# --- what each scenario sends ---------------------------------------------------------------------------------


async def make_plan(url: str, seeder: Seeder, size: int) -> Plan:
    connection = await asyncpg.connect(url)
    try:
        reach = await connection.fetch(
            "SELECT c.id, c.created_at FROM centers c JOIN organizations o ON o.id = c.lead_org_id "
            "WHERE o.supervisor_id = $1 ORDER BY c.created_at, c.id",
            seeder.bench_department,
        )
        order = {
            r["id"]: i for i, r in enumerate(await connection.fetch("SELECT id FROM centers ORDER BY created_at, id"))
        }
        last_leaf = await connection.fetchval("SELECT max(idx) FROM log_nodes WHERE level = 0")
    finally:
        await connection.close()
    rng = seeder.rng
    get_ids = [str(r["id"]) for r in rng.sample(list(reach), min(GET_SAMPLE, len(reach)))]
    # Pages start after a key spread uniformly over the department's centers: deep into the set, not page one.
    positions = [rng.randrange(1, max(2, len(reach) - PAGE)) for _ in range(PAGE_SAMPLE)]
    keys = [(reach[p - 1]["created_at"], reach[p - 1]["id"]) for p in positions]
    cursors = [encode_cursor(key) or "" for key in keys]
    offsets = [order[key[1]] + 1 for key in keys]
    ttl = 12 * 3600
    tree_size = 0 if last_leaf is None else int(last_leaf) + 1
    proof_seqs = [rng.randint(1, tree_size) for _ in range(PROOF_SAMPLE)] if tree_size else []
    return Plan(
        size=size,
        supervisor=issue_token(
            AUTH_SECRET, role="supervisor", sub="bench-supervisor", org_id=str(seeder.bench_department), ttl_seconds=ttl
        ),
        province=issue_token(AUTH_SECRET, role="province", sub="bench-province", ttl_seconds=ttl),
        get_ids=get_ids,
        cursors=cursors,
        offsets=offsets,
        reach=len(reach),
        tree_size=tree_size,
        proof_seqs=proof_seqs,
    )


def requests_for(scenario: str, app: str, plan: Plan, applications: list[str]) -> list[dict[str, Any]]:
    supervisor = {"Authorization": f"Bearer {plan.supervisor}"}
    province = {"Authorization": f"Bearer {plan.province}"}
    if scenario == "get":
        if app == "service":
            return [{"path": f"/api/v1/centers/{i}", "headers": supervisor} for i in plan.get_ids]
        return [{"path": f"/centers/{i}"} for i in plan.get_ids]
    if scenario == "page":
        if app == "service":
            return [{"path": f"/api/v1/centers?limit={PAGE}&cursor={c}", "headers": supervisor} for c in plan.cursors]
        if app == "floor":
            return [{"path": f"/centers?limit={PAGE}&cursor={c}"} for c in plan.cursors]
        return [{"path": f"/centers?limit={PAGE}&offset={o}"} for o in plan.offsets]
    if scenario.startswith("stats"):
        return [{"path": "/api/v1/stats/centers?group_by=field", "headers": province}]
    if scenario == "obligations":
        return [{"path": f"/api/v1/obligations?as_of={AS_OF.isoformat()}", "headers": province}]
    if scenario == "transitions":
        if app == "write_floor":
            return [{"method": "POST", "path": f"/applications/{i}/recommend"} for i in applications]
        return [
            {"method": "POST", "path": f"/api/v1/applications/{i}/recommend", "headers": supervisor}
            for i in applications
        ]
    if scenario == "checkpoint":
        return [{"path": "/api/v1/log/checkpoint"}]
    if scenario == "proof":
        return [
            {"path": f"/api/v1/log/proof/inclusion?seq={seq}&tree_size={plan.tree_size}", "headers": province}
            for seq in plan.proof_seqs
        ]
    raise ValueError(scenario)


# Reports, the checkpoint and a proof are judged on their latency: one connection, one request at a time.
CONNECTIONS = {"obligations": 1, "stats": 1, "checkpoint": 1, "proof": 1}


class Runner:
    def __init__(self, config: BenchConfig, url: str, run_dir: Path) -> None:
        self.config = config
        self.url = url
        self.run_dir = run_dir
        self.results: list[Result] = []
        self.applications: list[str] = []
        self.applications_used = 0
        self.profiles: dict[str, str] = {}
        self.subjects = 0

    def scenario(
        self, server: servers.Server, scenario: str, plan: Plan, *, profile_as: str | None = None
    ) -> Result | None:
        config = self.config
        once = scenario == "transitions"
        pending = self.applications[self.applications_used :] if once else []
        if once and not pending:
            print(f"  {scenario}: no submitted applications left, skipped")
            return None
        connections = CONNECTIONS.get(scenario, config.connections)
        spec = {
            "host": "127.0.0.1",
            "port": server.port,
            "connections": connections,
            "duration": config.duration,
            "warmup": config.warmup,
            "mode": "once" if once else "cycle",
            "shuffle": not once,
            "timeout": 120.0,
            "requests": requests_for(scenario, server.app, plan, pending),
        }
        spec_path = self.run_dir / "spec.json"
        spec_path.write_text(json.dumps(spec))
        spy = None
        if profile_as:
            spy = profile.record(
                server.process.pid, self.run_dir / f"profile-{profile_as}.txt", config.warmup + config.duration
            )
        # What else is running on the machine (the server is idle now): other work skews every number.
        background = servers.machine_busy(0.5)
        cpu0, (busy0, total0) = servers.tree_cpu_seconds(server.process.pid), servers.machine_ticks()
        wall0 = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "bench.load", str(spec_path)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - wall0
        cpu1, (busy1, total1) = servers.tree_cpu_seconds(server.process.pid), servers.machine_ticks()
        if spy is not None:
            spy.wait(timeout=60)
            out = self.run_dir / f"profile-{profile_as}.txt"
            if out.exists():
                self.profiles[str(profile_as)] = profile.summarize(out)
                (self.run_dir / f"profile-{profile_as}-summary.txt").write_text(self.profiles[str(profile_as)])
        if completed.returncode != 0:
            print(f"  {scenario}: load client failed:\n{completed.stderr[-2000:]}")
            return None
        data = json.loads(completed.stdout)
        if completed.stderr.strip():
            print(f"    load client stderr: {completed.stderr.strip()[-1000:]}")
        if once:
            self.applications_used += data["used"]
        result = _result(
            data,
            scenario=scenario,
            app=server.app,
            size=plan.size,
            workers=server.workers,
            connections=connections,
            server_cpu_s=cpu1 - cpu0,
            wall=wall,
            machine=(busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1),
            background=background,
        )
        if profile_as is None:
            self.results.append(result)
        _print(result, " (profiled)" if profile_as else "")
        return result

    def pgbench(self, name: str, plan: Plan) -> Result | None:
        """One of the pgbench ceilings, with the transitions scenario's clients, duration and warm-up."""
        config = self.config
        if ceilings.pgbench() is None:
            print(f"  {name}: pgbench is not installed (Debian: postgresql-client), skipped")
            return None
        if not self.subjects:
            self.subjects = asyncio.run(ceilings.prepare_subjects(self.url))
        background = servers.machine_busy(0.5)
        busy0, total0 = servers.machine_ticks()
        wall0 = time.perf_counter()
        try:
            data = ceilings.run(
                name,
                self.url,
                clients=config.connections,
                duration=config.duration,
                warmup=config.warmup,
                subjects=self.subjects,
                out=self.run_dir,
            )
        except (OSError, RuntimeError) as exc:
            print(f"  {name}: {exc}")
            return None
        wall = time.perf_counter() - wall0
        busy1, total1 = servers.machine_ticks()
        result = _result(
            data,
            scenario="transitions",
            app=name,
            size=plan.size,
            workers=1,
            connections=config.connections,
            server_cpu_s=math.nan,
            wall=wall,
            machine=(busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1),
            background=background,
        )
        self.results.append(result)
        _print(result, f"  [{data['summary']}]")
        return result

    def serve(self, app: str, workers: int) -> servers.Server:
        return servers.start(app, self.url, workers, self.run_dir / "logs")


def _result(
    data: dict[str, Any],
    *,
    scenario: str,
    app: str,
    size: int,
    workers: int,
    connections: int,
    server_cpu_s: float,
    wall: float,
    machine: float,
    background: float,
) -> Result:
    return Result(
        scenario=scenario,
        app=app,
        size=size,
        workers=workers,
        connections=connections,
        rps=data["rps"],
        p50_ms=data["p50_ms"],
        p90_ms=data["p90_ms"],
        p99_ms=data["p99_ms"],
        max_ms=data["max_ms"],
        requests=data["requests"],
        errors=data["errors"],
        client_cpu=data["client_cpu"],
        server_cpu=server_cpu_s / wall,
        machine_busy=machine,
        background=background,
        statuses=data["statuses"],
        samples=data["samples"],
        used=data["used"],
        server_cpu_ms=server_cpu_s
        * 1000
        / max(1, data["requests"] + sum(int(v) for v in data.get("warmup_statuses", {}).values())),
    )


def _print(result: Result, suffix: str = "") -> None:
    server = (
        "(PostgreSQL's CPU not counted)"
        if math.isnan(result.server_cpu)
        else f"server {result.server_cpu:.0%} ({result.server_cpu_ms:.2f} ms/request)"
    )
    print(
        f"  {result.scenario:<12} {result.app:<8} {result.size:>7} {result.workers}w c={result.connections:<3} "
        f"{result.rps:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  "
        f"errors {result.errors}  cpu client {result.client_cpu:.0%} {server} "
        f"machine {result.machine_busy:.0%} (idle before: {result.background:.0%}){suffix}",
        flush=True,
    )
    if result.errors:
        print(f"    statuses {result.statuses}; samples {json.dumps(result.samples, ensure_ascii=False)[:600]}")


def verify_proofs(server: servers.Server, plan: Plan, count: int = PROOFS_VERIFIED) -> tuple[int, int]:
    """Check a sample of the service's inclusion proofs (RFC 9162 §2.1.3.2) against the root they name and the entry
    they carry: the seed's bulk tree has to be the tree the service would have built. Returns (verified, asked)."""
    headers = {"Authorization": f"Bearer {plan.province}"}
    verified = 0
    seqs = plan.proof_seqs[:count]
    for seq in seqs:
        url = f"{server.base}/api/v1/log/proof/inclusion?seq={seq}&tree_size={plan.tree_size}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
                proof = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            print(f"    inclusion proof of {seq}: {exc}")
            continue
        leaf = merkle.leaf_hash(proof["entry"].encode("utf-8"))
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        ok = base64.b64decode(proof["leaf_hash"]) == leaf and merkle.verify_inclusion(
            proof["leaf_index"], proof["tree_size"], leaf, hashes, base64.b64decode(proof["root"])
        )
        verified += int(ok and json.loads(proof["entry"])["seq"] == seq)
    return verified, len(seqs)


async def verify_feed_tail(url: str, from_seq: int, to_seq: int) -> tuple[bool, int, int]:
    """Re-check the hash chain from just before the first event the service's scenarios appended, to `to_seq`."""
    connection = await asyncpg.connect(url)
    try:
        previous = await connection.fetchrow("SELECT seq, hash FROM events WHERE seq = $1", from_seq - 1)
        rows = await connection.fetch("SELECT * FROM events WHERE seq BETWEEN $1 AND $2 ORDER BY seq", from_seq, to_seq)
        recommended = await connection.fetchval(
            "SELECT count(*) FROM transitions WHERE subject_type = 'application' AND action = 'recommend'"
        )
    finally:
        await connection.close()
    pairs = [(event_of(r), r["hash"]) for r in rows]
    check = verify_chain(pairs, previous_hash=previous["hash"], expected_seq=from_seq)
    return check.ok, check.checked, int(recommended)


async def last_seq(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT coalesce(max(seq), 0) FROM events"))
    finally:
        await connection.close()


def main() -> int:
    config = BenchConfig.from_env()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = config.results_dir / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    ensure_tools(config)
    if config.nice:
        os.nice(config.nice)  # inherited by every process the run starts: servers, load client, embedded PostgreSQL
    started = time.perf_counter()
    print(
        f"bench: sizes {config.sizes}, {config.events} events, {config.duration:g} s per scenario "
        f"(+{config.warmup:g} s warm-up), {config.connections} connections, workers {config.workers}"
    )
    db = database.create(config)
    print(f"bench: fresh database {db.name} ({'embedded' if db.embedded else 'TIC_DATABASE_URL server'}), migrated")
    facts = machine_facts(db.url)
    print(
        f"bench: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory_gib']} GiB, Python {facts['python']}, "
        f"PostgreSQL {facts['postgres']['server_version']}"
    )
    seeder = Seeder(db.url, sample=config.sample)
    runner = Runner(config, db.url, run_dir)
    seeding: dict[str, float] = {}
    feed: dict[str, Any] = {}
    largest = config.sizes[-1]
    try:
        for size in config.sizes:
            t0 = time.perf_counter()
            asyncio.run(seeder.grow_to(size))
            if size == largest:
                asyncio.run(seeder.fill_events(config.events))
                tree_t0 = time.perf_counter()
                tree = asyncio.run(seeder.integrate_tree())
                print(f"bench: Merkle tree integrated over {tree} events in {time.perf_counter() - tree_t0:.1f} s")
                runner.applications = [str(i) for i in asyncio.run(seeder.add_applications(config.applications))]
            asyncio.run(seeder.analyze())
            seeding[str(size)] = time.perf_counter() - t0
            plan = asyncio.run(make_plan(db.url, seeder, size))
            print(
                f"bench: seeded {size} centers in {seeding[str(size)]:.1f} s ({asdict(seeder.stats)}); "
                f"the bench department reaches {plan.reach}"
            )
            for app in servers.APPS:
                server = runner.serve(app, 1)
                try:
                    runner.scenario(server, "get", plan)
                    runner.scenario(server, "page", plan)
                    if app == "service":
                        runner.scenario(server, "stats", plan)
                        if size <= config.obligations_max_size:
                            runner.scenario(server, "obligations", plan)
                        if size == largest and plan.tree_size:
                            verified, asked = verify_proofs(server, plan)
                            feed.update(proofs_verified=verified, proofs_asked=asked, tree_size=plan.tree_size)
                            print(f"bench: {verified} of {asked} inclusion proofs verify against their root")
                            runner.scenario(server, "checkpoint", plan)
                            runner.scenario(server, "proof", plan)
                        if size == largest:
                            first = asyncio.run(last_seq(db.url)) + 1
                            runner.scenario(server, "transitions", plan)
                            feed["first_seq"] = first
                            if config.profile:
                                for scenario in ("get", "page", "transitions"):
                                    runner.scenario(server, scenario, plan, profile_as=scenario)
                finally:
                    servers.stop(server)
            if size == largest:
                for workers in (w for w in config.workers if w != 1):
                    for app in servers.APPS:
                        server = runner.serve(app, workers)
                        try:
                            runner.scenario(server, "get", plan)
                            runner.scenario(server, "page", plan)
                            if app == "service":
                                runner.scenario(server, "transitions", plan)
                        finally:
                            servers.stop(server)
                if "first_seq" in feed:
                    total = asyncio.run(last_seq(db.url))
                    ok, checked, recommended = asyncio.run(verify_feed_tail(db.url, feed["first_seq"], total))
                    feed.update(ok=ok, checked=checked, recommended=recommended, total=total)
                    print(
                        f"bench: feed re-checked from seq {feed['first_seq']}: {checked} events, chain "
                        f"{'intact' if ok else 'BROKEN'}; {recommended} recommend transitions in history"
                    )
                # Issue 14's write comparisons, last: their events are not on the service's chain (the floor's and
                # the unchained script's stay queued, as no service, so no sequencer, runs after them).
                server = runner.serve("write_floor", 1)
                try:
                    runner.scenario(server, "transitions", plan)
                finally:
                    servers.stop(server)
                runner.pgbench("pgbench-chained", plan)
                runner.pgbench("pgbench-unchained", plan)
    finally:
        if not config.keep_db:
            database.drop(db)

    text = report.render(config, facts, runner.results, seeding, feed, runner.profiles, time.perf_counter() - started)
    print(text)
    (run_dir / "report.md").write_text(text)
    (run_dir / "results.json").write_text(
        json.dumps(
            {
                "config": {k: str(v) for k, v in asdict(config).items()},
                "machine": facts,
                "seeding_s": seeding,
                "feed": feed,
                "results": [asdict(r) for r in runner.results],
            },
            indent=2,
            default=str,
        )
    )
    print(f"bench: results in {run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
