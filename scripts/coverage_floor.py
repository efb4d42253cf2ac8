"""Fail when coverage is below its floors (issue 18): `python scripts/coverage_floor.py coverage.json`.

Reads the JSON report of `coverage json` (or pytest-cov's `--cov-report=json:…`), measured with branch coverage.

- total lines   ≥ 97 %  (statements run / statements)
- total branches ≥ 92 %  (branch arcs taken / branch arcs)
- every module in app/domain and app/services ≥ 95 %, lines and branches combined
  ((statements run + arcs taken) / (statements + arcs), coverage.py's own per-file percentage with branch coverage)

Prints the totals and the worst modules either way, then every floor that is not met; exits 1 if any is not.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOTAL_LINES = 97.0
TOTAL_BRANCHES = 92.0
MODULE = 95.0
# Modules held to the per-module floor: the rules and the use cases.
PER_MODULE_PACKAGES = ("app/domain/", "app/services/")
WORST_SHOWN = 8


@dataclass(frozen=True)
class Measure:
    lines_run: int
    lines: int
    branches_taken: int
    branches: int

    @classmethod
    def of(cls, summary: dict[str, Any]) -> Measure:
        return cls(
            summary["covered_lines"],
            summary["num_statements"],
            summary.get("covered_branches", 0),
            summary.get("num_branches", 0),
        )

    @staticmethod
    def _percent(done: int, total: int) -> float:
        return 100.0 if total == 0 else 100.0 * done / total

    @property
    def line_percent(self) -> float:
        return self._percent(self.lines_run, self.lines)

    @property
    def branch_percent(self) -> float:
        return self._percent(self.branches_taken, self.branches)

    @property
    def combined_percent(self) -> float:
        return self._percent(self.lines_run + self.branches_taken, self.lines + self.branches)


def check(report: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(lines to print, floors not met) for a coverage JSON report."""
    if not report.get("meta", {}).get("branch_coverage"):
        return [], ["the report was measured without branch coverage (set [tool.coverage.run] branch = true)"]
    total = Measure.of(report["totals"])
    modules = {
        path.replace("\\", "/"): Measure.of(data["summary"])
        for path, data in report["files"].items()
        if path.replace("\\", "/").startswith(PER_MODULE_PACKAGES)
    }
    out = [
        f"coverage: lines {total.line_percent:.2f} % ({total.lines_run}/{total.lines}), "
        f"branches {total.branch_percent:.2f} % ({total.branches_taken}/{total.branches})",
        f"worst modules in {' and '.join(p.rstrip('/') for p in PER_MODULE_PACKAGES)} (lines+branches combined):",
    ]
    worst = sorted(modules.items(), key=lambda item: (item[1].combined_percent, item[0]))
    out.extend(
        f"  {m.combined_percent:6.2f} %  {path}  (lines {m.line_percent:.1f} %, branches {m.branch_percent:.1f} %)"
        for path, m in worst[:WORST_SHOWN]
    )
    failures = []
    if total.line_percent < TOTAL_LINES:
        failures.append(f"total lines {total.line_percent:.2f} % < {TOTAL_LINES} %")
    if total.branch_percent < TOTAL_BRANCHES:
        failures.append(f"total branches {total.branch_percent:.2f} % < {TOTAL_BRANCHES} %")
    if not modules:
        failures.append(f"no module of {', '.join(PER_MODULE_PACKAGES)} in the report: was `app` measured?")
    failures.extend(
        f"{path} {m.combined_percent:.2f} % < {MODULE} % (lines and branches combined)"
        for path, m in worst
        if m.combined_percent < MODULE
    )
    return out, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="coverage JSON report")
    args = parser.parse_args(argv)
    lines, failures = check(json.loads(args.report.read_text(encoding="utf-8")))
    for line in lines:
        print(line)
    for failure in failures:
        print(f"coverage floor not met: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
