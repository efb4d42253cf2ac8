"""The floor of `make mutation`: reads what mutmut recorded for `app/domain` and fails under the kill floor.

mutmut writes its per-run counts with `mutmut export-cicd-stats` (mutants/mutmut-cicd-stats.json); this prints them
with the score and exits 1 when fewer than `--floor` percent of the mutants were killed.

- killed: a test failed (mutmut's "killed"), or the mutant ran past mutmut's time limit ("timeout": an endless loop
  is a kill, as mutmut's own badge counts it).
- survived: every selected test passed; "no tests" (no domain unit test reaches the function), "suspicious" and
  "segfault" count as survived too — none of them is a kill.
- equivalent: a mutant that no test can tell from the original is not generated at all: its line carries
  `# pragma: no mutate`, which mutmut reads, followed by the reason it is equivalent. Those lines are listed here,
  with their reasons, and counted in neither killed nor survived; a pragma without a reason fails the floor.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

PRAGMA = re.compile(r"#\s*pragma:\s*no mutate\b(?P<reason>.*)$")
# What must follow the pragma: a reason of a few words, not just punctuation.
REASON = re.compile(r"[A-Za-z]{3,}.*[A-Za-z]{3,}")


def equivalent_lines(root: Path) -> list[tuple[str, int, str]]:
    """(path, line number, reason) of every `# pragma: no mutate` under `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if match := PRAGMA.search(line):
                found.append((str(path), number, match["reason"].strip(" :—-")))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats", type=Path, default=Path("mutants/mutmut-cicd-stats.json"))
    parser.add_argument("--source", type=Path, default=Path("app/domain"))
    parser.add_argument("--floor", type=float, default=90.0, help="minimum percentage of mutants killed")
    args = parser.parse_args(argv)

    if not args.stats.exists():
        print(f"mutation: {args.stats} is missing; run 'mutmut run' and 'mutmut export-cicd-stats' first")
        return 1
    stats = json.loads(args.stats.read_text(encoding="utf-8"))
    killed = stats["killed"] + stats["timeout"]
    not_killed = {
        "survived": stats["survived"],
        "no tests": stats["no_tests"],
        "suspicious": stats["suspicious"],
        "segfault": stats["segfault"],
        "interrupted": stats["check_was_interrupted_by_user"],
    }
    # Skipped mutants (mutmut's own skip list) are not judged; every other generated mutant is.
    judged = stats["total"] - stats["skipped"]
    survived = sum(not_killed.values())
    unjudged = judged - killed - survived
    equivalents = equivalent_lines(args.source)

    print("mutation testing of app/domain against tests/unit/domain (mutmut)")
    for path, number, reason in equivalents:
        print(f"  equivalent  {path}:{number}  {reason or '(NO REASON GIVEN)'}")
    detail = ", ".join(f"{name} {count}" for name, count in not_killed.items() if count)
    print(f"  killed      {killed} (timeouts {stats['timeout']})")
    print(f"  survived    {survived}" + (f" ({detail})" if detail else ""))
    print(f"  equivalent  {len(equivalents)} line(s) marked '# pragma: no mutate', not generated, not counted")
    print(f"  total       {judged} mutants judged (skipped {stats['skipped']})")

    failures = []
    if unjudged:
        failures.append(f"{unjudged} mutant(s) were never run (an interrupted run?)")
    if judged <= 0:
        failures.append("no mutant was judged")
    score = 100.0 * killed / judged if judged > 0 else 0.0
    print(f"  score       {score:.2f} % killed (floor {args.floor:g} %)")
    if score < args.floor:
        failures.append(f"{score:.2f} % killed is under the floor of {args.floor:g} %")
    if missing := [f"{path}:{number}" for path, number, reason in equivalents if not REASON.search(reason)]:
        failures.append("a '# pragma: no mutate' without the reason it is equivalent: " + ", ".join(missing))
    for failure in failures:
        print(f"mutation: FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
