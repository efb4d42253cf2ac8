"""Every explanation the eligibility engine can give, pinned word for word.

The checks' messages are what an applicant, a supervisor and the province read in `GET …/eligibility` and in the
blockers of `submit`; the other tests assert outcomes and numbers, this one pins the text too. Each scenario changes
one thing about a baseline application (or takes a different lead) so that every branch of every rule is reached at
least once; the golden file records, per rule set, the full verdict of each baseline and, for each scenario, only the
checks that differ from its baseline — a reviewer reads a change of wording as a small diff.

Regenerate after a deliberate change of wording: `UPDATE_GOLDEN=1 pytest tests/unit/domain/test_eligibility_golden.py`,
then read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.domain.eligibility import (
    EligibilityInput,
    MajorProject,
    OrgProfile,
    Platform,
    Talent,
    Team,
    evaluate,
)
from app.domain.rulesets import RULE_SETS
from tests.unit.domain.test_eligibility import BASE, INSTITUTE, UNIVERSITY, _facts, _inp, _org

GOLDEN = Path(__file__).parent / "golden" / "eligibility.json"

PLAIN_ENTERPRISE = OrgProfile("plain-ent", "enterprise", registered_on=date(2015, 1, 1))
LEADING_PARTNER = OrgProfile("partner-ent", "enterprise", is_leading_enterprise=True)
ACADEMIC_BASE = replace(
    BASE,
    formation_mode="academic_led",
    lead=UNIVERSITY,
    participants=(LEADING_PARTNER,),
    field="frontier",
    call_fields=None,
)

Scenario = Callable[[], EligibilityInput]

# Built when the test runs, not at import: mutation testing switches a mutant on after collection.
SCENARIOS: dict[str, Scenario] = {
    # projects and platforms
    "no major projects": lambda: _facts(major_projects=()),
    "only a municipal project": lambda: _facts(major_projects=(MajorProject("市级项目", "municipal", 2023),)),
    "two major projects": lambda: _facts(
        major_projects=(MajorProject("甲", "national", 2022), MajorProject("乙", "provincial", 2023))
    ),
    "no platform": lambda: _facts(platforms=()),
    "platform in another field": lambda: _facts(platforms=(Platform("平台", "provincial", "smart_sensors"),)),
    "municipal platform": lambda: _facts(platforms=(Platform("平台", "municipal", "biomedicine"),)),
    # results and patents
    "no IP results": lambda: _facts(ip_results_count=0),
    "one IP result": lambda: _facts(ip_results_count=1),
    "no patents": lambda: _facts(invention_patents=0, pct_patents=0),
    "only a PCT patent": lambda: _facts(invention_patents=0, pct_patents=1),
    "blank cooperation": lambda: _facts(cooperation_mechanism="   "),
    # staff
    "no staff": lambda: _facts(staff_total=0, rd_staff=0),
    "more R&D staff than staff": lambda: _facts(staff_total=100, rd_staff=101),
    "exactly 10 %": lambda: _facts(staff_total=500, rd_staff=50),
    "just under 10 %": lambda: _facts(staff_total=501, rd_staff=50),
    "49 R&D staff": lambda: _facts(staff_total=400, rd_staff=49),
    # talents and teams
    "two talents": lambda: _facts(high_level_talents=(Talent("甲", "national"), Talent("乙", "provincial"))),
    "a talent listed twice": lambda: _facts(
        high_level_talents=(
            Talent("甲", "national", "410101199001011234"),
            Talent("甲", "national", "410101199001011234"),
            Talent("乙", "provincial"),
        )
    ),
    "a municipal talent": lambda: _facts(
        high_level_talents=(Talent("甲", "national"), Talent("乙", "provincial"), Talent("丙", "municipal"))
    ),
    "two teams": lambda: _facts(high_level_teams=(Team("一", "甲"), Team("二", "乙"))),
    # R&D spend
    "two years of spend": lambda: _facts(rd_spend_wan=(Decimal("5000"), Decimal("5000"))),
    "non-finite spend": lambda: _facts(rd_spend_wan=(Decimal("5000"), Decimal("NaN"), Decimal("5000"))),
    "average exactly 4000": lambda: _facts(rd_spend_wan=(Decimal("3000"), Decimal("4000"), Decimal("5000"))),
    "average just under 4000": lambda: _facts(rd_spend_wan=(Decimal("3999.99"), Decimal("4000"), Decimal("4000"))),
    # leads and formation modes
    "plain enterprise lead": lambda: _inp(lead=PLAIN_ENTERPRISE),
    "enterprise-led without academic participant": lambda: _inp(participants=(_org("enterprise"),)),
    "alliance that fits": lambda: _inp(
        formation_mode="enterprise_alliance", participants=(_org("enterprise"), UNIVERSITY)
    ),
    "alliance of one enterprise": lambda: _inp(formation_mode="enterprise_alliance", participants=(UNIVERSITY,)),
    "unknown formation mode": lambda: _inp(formation_mode="joint_venture"),
    "academic lead in a layout field": lambda: replace(ACADEMIC_BASE, field="biomedicine"),
    "academic lead without enterprise": lambda: replace(ACADEMIC_BASE, participants=(INSTITUTE,)),
    "academic lead, wrong field and no enterprise": lambda: replace(
        ACADEMIC_BASE, participants=(INSTITUTE,), field="biomedicine"
    ),
    "institute lead with a plain enterprise": lambda: replace(
        ACADEMIC_BASE, lead=INSTITUTE, participants=(_org("enterprise"),)
    ),
    "academic lead with two leading enterprises": lambda: replace(
        ACADEMIC_BASE, participants=(LEADING_PARTNER, replace(LEADING_PARTNER, org_id="partner-2"))
    ),
    "enterprise lead under academic mode": lambda: _inp(formation_mode="academic_led", field="frontier"),
    # fields and calls
    "field outside the layout": lambda: _inp(field="astrology"),
    "field outside the call": lambda: _inp(field="new_materials"),
    "fast track in any layout field": lambda: _inp(field="new_materials", call_fields=None),
    # one plan, revocations, registration, participants
    "another live plan": lambda: _inp(other_live_applications_in_call=("app-1",)),
    "two other live plans": lambda: _inp(other_live_applications_in_call=("app-1", "app-2")),
    "revoked within three years": lambda: _inp(for_cause_revocations_on=(date(2023, 6, 2),)),
    "revoked exactly three years ago": lambda: _inp(for_cause_revocations_on=(date(2022, 6, 1),)),
    "revoked twice": lambda: _inp(for_cause_revocations_on=(date(2024, 1, 1), date(2023, 7, 1))),
    "revoked after judgement day": lambda: _inp(for_cause_revocations_on=(date(2025, 6, 2),)),
    "registration unknown": lambda: _inp(lead=replace(BASE.lead, registered_on=None)),
    "registered exactly a year before the call": lambda: _inp(lead=replace(BASE.lead, registered_on=date(2024, 5, 1))),
    "registered a day too late": lambda: _inp(lead=replace(BASE.lead, registered_on=date(2024, 5, 2))),
    "no call date": lambda: _inp(call_opens_on=None, lead=replace(BASE.lead, registered_on=date(2024, 6, 1))),
    "three participants": lambda: _inp(participants=(UNIVERSITY, INSTITUTE, _org("enterprise"))),
    "four participants": lambda: _inp(participants=(UNIVERSITY, INSTITUTE, _org("enterprise"), _org("other"))),
}


def _verdicts() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rule_set in sorted(RULE_SETS.items()):
        baselines = {"enterprise lead": BASE, "academic lead": ACADEMIC_BASE}
        base_checks = {
            label: {c.rule: c.as_dict() for c in evaluate(rule_set, inp).checks} for label, inp in baselines.items()
        }
        scenarios: dict[str, Any] = {}
        for scenario, build in SCENARIOS.items():
            inp = build()
            label = "enterprise lead" if inp.lead.kind == "enterprise" else "academic lead"
            checks = evaluate(rule_set, inp).checks
            changed = [c.as_dict() for c in checks if c.as_dict() != base_checks[label].get(c.rule)]
            scenarios[scenario] = {"baseline": label, "changed": changed}
        out[name] = {
            "baselines": {label: list(checks.values()) for label, checks in base_checks.items()},
            "scenarios": scenarios,
        }
    return out


def test_every_explanation_matches_the_golden_file_word_for_word() -> None:
    verdicts = _verdicts()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(verdicts, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for rule_set, expected in golden.items():
        assert verdicts[rule_set]["baselines"] == expected["baselines"], rule_set
        for scenario, want in expected["scenarios"].items():
            assert verdicts[rule_set]["scenarios"][scenario] == want, (rule_set, scenario)
    assert verdicts.keys() == golden.keys()


# Edges on the passing side: each must explain exactly what the baseline explains, in every rule set.
SAME_AS_BASELINE = frozenset({"revoked exactly three years ago", "revoked after judgement day"})


def test_every_scenario_changes_something_somewhere_except_the_passing_edges() -> None:
    # A scenario that changes nothing in any rule set proves nothing: it is a typo or a dead branch.
    verdicts = _verdicts()
    for scenario in SCENARIOS:
        changed = [verdicts[r]["scenarios"][scenario]["changed"] for r in verdicts]
        if scenario in SAME_AS_BASELINE:
            assert not any(changed), scenario
        else:
            assert any(changed), scenario


def test_every_rule_of_every_set_both_passes_and_fails_across_the_scenarios() -> None:
    verdicts = _verdicts()
    for rule_set, data in verdicts.items():
        outcomes: dict[str, set[str]] = {}
        for checks in data["baselines"].values():
            for check in checks:
                outcomes.setdefault(check["rule"], set()).add(check["outcome"])
        for scenario in data["scenarios"].values():
            for check in scenario["changed"]:
                outcomes.setdefault(check["rule"], set()).add(check["outcome"])
        for rule, seen in outcomes.items():
            assert "fail" in seen, (rule_set, rule, seen)
            assert seen & {"pass", "manual"}, (rule_set, rule, seen)
