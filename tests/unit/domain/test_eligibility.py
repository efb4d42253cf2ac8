# Chinese text uses full-width punctuation and tortoise-shell brackets (document numbers) on purpose.

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from app.domain.eligibility import (
    PLAN_COUNTED_STATUSES,
    PLAN_NOT_COUNTED_STATUSES,
    Check,
    EligibilityInput,
    Facts,
    MajorProject,
    OrgProfile,
    Platform,
    Talent,
    Team,
    evaluate,
)
from app.domain.lifecycles import APPLICATION, APPLICATION_FAST_TRACK, StateMachine
from app.domain.reference import FIELDS, codes
from app.domain.rulesets import DEFAULT_RULE_SET, RULE_SETS, RuleSet, get_rule_set

BOTH = ("henan-2021", "henan-2025")

LEADING_ENTERPRISE = OrgProfile("lead-ent", "enterprise", is_leading_enterprise=True, registered_on=date(2010, 3, 1))
UNIVERSITY = OrgProfile("zzu", "university", registered_on=date(1956, 1, 1))
INSTITUTE = OrgProfile("inst", "research_institute", registered_on=date(1980, 1, 1))

BASE_FACTS = Facts(
    major_projects=(MajorProject("重大专项", "national", 2022),),
    platforms=(Platform("省重点实验室", "provincial", "biomedicine"),),
    ip_results_count=4,
    invention_patents=12,
    pct_patents=2,
    cooperation_mechanism="与郑州大学共建联合实验室，签订长期合作协议",
    staff_total=600,
    rd_staff=120,
    high_level_talents=(Talent("甲", "national"), Talent("乙", "provincial"), Talent("丙", "provincial")),
    high_level_teams=(Team("团队一", "甲"), Team("团队二", "乙"), Team("团队三", "丙")),
    rd_spend_wan=(Decimal("5200.00"), Decimal("5600.50"), Decimal("6100.25")),
)

BASE = EligibilityInput(
    field="biomedicine",
    formation_mode="enterprise_led",
    lead=LEADING_ENTERPRISE,
    participants=(UNIVERSITY,),
    facts=BASE_FACTS,
    judged_on=date(2025, 6, 1),
    call_fields=("biomedicine", "smart_sensors"),
    call_opens_on=date(2025, 5, 1),
)


def _inp(**changes: Any) -> EligibilityInput:
    return replace(BASE, **changes)


def _facts(**changes: Any) -> EligibilityInput:
    return replace(BASE, facts=replace(BASE_FACTS, **changes))


def _org(kind: str, *, leading: bool = False, org_id: str | None = None) -> OrgProfile:
    return OrgProfile(org_id or f"{kind}-{int(leading)}", kind, is_leading_enterprise=leading)


def _check(rule_set: str, inp: EligibilityInput, rule: str) -> Check:
    """The set's rule `rule`, run alone on `inp`.

    `evaluate` only runs every rule of the set in order (its own tests below pin the order and the verdict); running
    the one rule keeps a test on the rule it is about, so in `make mutation` a mutant of one rule reruns that rule's
    tests, not the ~300 tests of every rule (each of which ran all of them through `evaluate`).
    """
    (found,) = (candidate for candidate in get_rule_set(rule_set).rules if candidate.id == rule)
    check = found.check(inp)
    assert check.rule == rule
    return check


@pytest.mark.parametrize(
    ("rule_set", "rule_ids"),
    [
        (
            "henan-2021",
            (
                "major_project_experience",
                "provincial_platform",
                "ip_results",
                "patent_standing",
                "cooperation_mechanism",
                "rd_staff_ratio",
                "high_level_talents",
                "leading_enterprise",
                "rd_spend_3y_avg",
                "formation_mode_consistency",
                "field_in_layout",
                "one_center_one_plan",
                "no_recent_revocation",
            ),
        ),
        (
            "henan-2025",
            (
                "major_project_experience",
                "provincial_platform",
                "ip_results",
                "patent_standing",
                "cooperation_mechanism",
                "rd_staff_count",
                "high_level_talents",
                "high_level_teams",
                "leading_enterprise",
                "rd_spend_3y_avg",
                "registered_in_henan",
                "formation_mode_consistency",
                "participants_cap",
                "leading_enterprise_participant",
                "field_in_layout",
                "one_center_one_plan",
                "no_recent_revocation",
            ),
        ),
    ],
)
def test_each_rule_set_runs_its_rules_in_the_listed_order(rule_set: str, rule_ids: tuple[str, ...]) -> None:
    assert tuple(rule.id for rule in get_rule_set(rule_set).rules) == rule_ids
    assert tuple(check.rule for check in evaluate(get_rule_set(rule_set), BASE).checks) == rule_ids


@pytest.mark.parametrize(
    ("rule_set", "source"), [("henan-2021", "豫科〔2021〕116号"), ("henan-2025", "豫科〔2025〕131号")]
)
def test_each_rule_set_names_its_document(rule_set: str, source: str) -> None:
    assert get_rule_set(rule_set).source == source


def test_the_default_rule_set_is_the_2021_notice() -> None:
    assert DEFAULT_RULE_SET == "henan-2021"
    assert set(RULE_SETS) == set(BOTH)


def test_an_unknown_rule_set_name_raises_key_error() -> None:
    with pytest.raises(KeyError, match="henan-1999"):
        get_rule_set("henan-1999")


@pytest.mark.parametrize("rule_set", BOTH)
def test_a_rule_set_describes_itself_as_json_with_decimals_as_strings(rule_set: str) -> None:
    described = get_rule_set(rule_set).describe()
    assert json.loads(json.dumps(described, ensure_ascii=False)) == described
    assert described["review_pass_score"] == "70"
    assert described["review_criteria_max"] == {
        "foundation": 30,
        "goals_and_tasks": 25,
        "organization_and_governance": 20,
        "funding": 15,
        "schedule": 10,
    }
    assert described["assessment_weights"] == {
        "rd_investment": 40,
        "st_results": 30,
        "talent_team": 10,
        "research_projects": 10,
        "industry_academia_cooperation": 10,
    }
    assert described["grade_bands"] == [
        {"grade": "excellent", "min_score": "90"},
        {"grade": "good", "min_score": "70"},
        {"grade": "qualified", "min_score": "60"},
        {"grade": "unqualified", "min_score": "0"},
    ]
    assert (described["panel_min_size"], described["review_trim_from"], described["construction_years"]) == (5, 5, 3)
    assert described["panel_categories"] == ["technical", "financial", "management"]
    assert all(rule["source"] and rule["description_zh"] and rule["description_en"] for rule in described["rules"])


def test_a_rule_set_keeps_its_parameters_immutable_even_when_built_from_a_dict() -> None:
    weights = {
        "rd_investment": 40,
        "st_results": 30,
        "talent_team": 10,
        "research_projects": 10,
        "industry_academia_cooperation": 10,
    }
    rule_set = replace(get_rule_set("henan-2021"), name="custom", assessment_weights=weights)
    weights["rd_investment"] = 99
    assert isinstance(rule_set.assessment_weights, MappingProxyType)
    assert rule_set.assessment_weights["rd_investment"] == 40


@pytest.mark.parametrize(
    "changes",
    [
        {
            "review_criteria_max": {
                "foundation": 30,
                "goals_and_tasks": 25,
                "organization_and_governance": 20,
                "funding": 15,
                "schedule": 11,
            }
        },
        {"assessment_weights": {"rd_investment": 50, "st_results": 30}},
        {"grade_bands": (("excellent", Decimal("90")), ("good", Decimal("70")))},
        {"panel_categories": ("technical", "legal")},
        {"rules": get_rule_set("henan-2021").rules[:1] * 2},
    ],
)
def test_a_rule_set_with_inconsistent_parameters_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="rule set"):
        replace(get_rule_set("henan-2021"), **changes)


@pytest.mark.parametrize("rule_set", BOTH)
def test_a_fully_eligible_enterprise_application_is_eligible_with_manual_checks_for_the_experts(rule_set: str) -> None:
    verdict = evaluate(get_rule_set(rule_set), BASE)
    assert verdict.eligible is True
    assert verdict.failing == ()
    assert tuple(check.rule for check in verdict.manual) == ("ip_results", "patent_standing")
    assert verdict.rule_set == rule_set


@pytest.mark.parametrize("rule_set", BOTH)
def test_a_fully_eligible_university_led_application_in_the_frontier_field_is_eligible(rule_set: str) -> None:
    inp = _inp(
        field="frontier",
        call_fields=("frontier",),
        lead=UNIVERSITY,
        formation_mode="academic_led",
        participants=(_org("enterprise", leading=True),),
        facts=replace(BASE_FACTS, rd_spend_wan=(), platforms=(Platform("省重点实验室", "provincial", "frontier"),)),
    )
    assert evaluate(get_rule_set(rule_set), inp).eligible is True


@pytest.mark.parametrize("rule_set", BOTH)
def test_a_verdict_serialises_to_a_dict_with_every_check(rule_set: str) -> None:
    inp = _facts(ip_results_count=0)
    verdict = evaluate(get_rule_set(rule_set), inp)
    as_dict = verdict.as_dict()
    assert as_dict["eligible"] is False
    assert as_dict["rule_set"] == rule_set
    assert len(as_dict["checks"]) == len(get_rule_set(rule_set).rules)
    assert set(as_dict["checks"][0]) == {"rule", "outcome", "expected", "actual", "message_zh", "message_en"}
    assert [check.rule for check in verdict.failing] == ["ip_results"]


@pytest.mark.parametrize("rule_set", BOTH)
def test_every_failing_rule_is_reported_not_only_the_first(rule_set: str) -> None:
    inp = replace(
        _facts(major_projects=(), platforms=(), cooperation_mechanism=""),
        other_live_applications_in_call=("app-1",),
    )
    failing = [check.rule for check in evaluate(get_rule_set(rule_set), inp).failing]
    assert failing == [
        "major_project_experience",
        "provincial_platform",
        "cooperation_mechanism",
        "one_center_one_plan",
    ]


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("projects", "outcome", "actual"),
    [
        ((), "fail", "0"),
        ((MajorProject("国家重点研发计划", "national", 2021),), "pass", "1"),
        ((MajorProject("省重大科技专项", "provincial", 2023),), "pass", "1"),
        ((MajorProject("市级项目", "municipal", 2023),), "fail", "0"),
    ],
)
def test_at_least_one_national_or_provincial_major_project_is_required(
    rule_set: str, projects: tuple[MajorProject, ...], outcome: str, actual: str
) -> None:
    check = _check(rule_set, _facts(major_projects=projects), "major_project_experience")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≥ 1", actual)


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("platforms", "outcome"),
    [
        ((), "fail"),
        ((Platform("省工程技术研究中心", "provincial", "biomedicine"),), "pass"),
        ((Platform("国家工程研究中心", "national", "biomedicine"),), "pass"),
        ((Platform("省重点实验室", "provincial", "green_food"),), "fail"),
        ((Platform("市级平台", "municipal", "biomedicine"),), "fail"),
    ],
)
def test_a_provincial_or_national_platform_must_be_in_the_applied_field(
    rule_set: str, platforms: tuple[Platform, ...], outcome: str
) -> None:
    assert _check(rule_set, _facts(platforms=platforms), "provincial_platform").outcome == outcome


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(("count", "outcome"), [(0, "fail"), (1, "manual"), (30, "manual")])
def test_ip_results_fail_when_absent_and_otherwise_go_to_the_experts(rule_set: str, count: int, outcome: str) -> None:
    check = _check(rule_set, _facts(ip_results_count=count), "ip_results")
    assert (check.outcome, check.actual) == (outcome, str(count))


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("invention", "pct", "outcome"), [(0, 0, "fail"), (1, 0, "manual"), (0, 1, "manual"), (40, 5, "manual")]
)
def test_patent_standing_fails_without_any_patent_and_otherwise_goes_to_the_experts(
    rule_set: str, invention: int, pct: int, outcome: str
) -> None:
    check = _check(rule_set, _facts(invention_patents=invention, pct_patents=pct), "patent_standing")
    assert (check.outcome, check.actual) == (outcome, f"invention {invention}, PCT {pct}")


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(("text", "outcome"), [("", "fail"), ("  \n\t", "fail"), ("产学研联合体章程", "pass")])
def test_a_cooperation_mechanism_must_be_described(rule_set: str, text: str, outcome: str) -> None:
    assert _check(rule_set, _facts(cooperation_mechanism=text), "cooperation_mechanism").outcome == outcome


@pytest.mark.parametrize(
    ("rd_staff", "staff_total", "outcome", "actual"),
    [
        (100, 1000, "pass", "10.00%"),
        (1, 10, "pass", "10.00%"),
        (999, 10000, "fail", "9.99%"),
        (9999, 100000, "fail", "9.99%"),
        (1, 3, "pass", "33.33%"),
        (0, 50, "fail", "0.00%"),
        (0, 0, "fail", "no staff declared"),
        (11, 10, "fail", "11 of 10"),
    ],
)
def test_rd_staff_must_be_at_least_ten_percent_of_all_staff_under_the_2021_notice(
    rd_staff: int, staff_total: int, outcome: str, actual: str
) -> None:
    check = _check("henan-2021", _facts(rd_staff=rd_staff, staff_total=staff_total), "rd_staff_ratio")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≥ 10%", actual)


def test_the_rd_staff_ratio_message_states_actual_and_threshold_in_both_languages() -> None:
    check = _check("henan-2021", _facts(rd_staff=999, staff_total=10000), "rd_staff_ratio")
    assert "9.99%" in check.message_zh
    assert "10%" in check.message_zh
    assert "9.99%" in check.message_en
    assert "10%" in check.message_en


@pytest.mark.parametrize(("rd_staff", "outcome"), [(49, "fail"), (50, "pass"), (51, "pass")])
def test_the_2025_call_requires_fifty_rd_staff_whatever_their_share(rd_staff: int, outcome: str) -> None:
    check = _check("henan-2025", _facts(rd_staff=rd_staff, staff_total=10000), "rd_staff_count")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≥ 50", str(rd_staff))


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("talents", "outcome", "actual"),
    [
        ((Talent("甲", "national"), Talent("乙", "provincial")), "fail", "2"),
        ((Talent("甲", "national"), Talent("乙", "provincial"), Talent("丙", "provincial")), "pass", "3"),
        ((Talent("甲", "national"), Talent("乙", "provincial"), Talent("丙", "municipal")), "fail", "2"),
        (tuple(Talent(str(i), "national") for i in range(4)), "pass", "4"),
    ],
)
def test_at_least_three_national_or_provincial_talents_are_required(
    rule_set: str, talents: tuple[Talent, ...], outcome: str, actual: str
) -> None:
    check = _check(rule_set, _facts(high_level_talents=talents), "high_level_talents")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≥ 3", actual)


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("talents", "outcome", "actual"),
    [
        pytest.param(
            (
                Talent("张三", "national", "410102199001011234"),
                Talent("张叁", "provincial", "410102199001011234"),
                Talent("李四", "provincial"),
            ),
            "fail",
            "2",
            id="one-id-number-under-two-names-is-one-person",
        ),
        pytest.param(
            (Talent("张三", "national"), Talent(" 张三　", "provincial"), Talent("李四", "provincial")),
            "fail",
            "2",
            id="one-name-without-id-numbers-is-one-person",
        ),
        pytest.param(
            (Talent("Li Wei", "national"), Talent("li  wei", "provincial"), Talent("王五", "provincial")),
            "fail",
            "2",
            id="case-and-spacing-do-not-make-another-person",
        ),
        pytest.param(
            (
                Talent("张三", "national", "41010219900101123x"),
                Talent("张三", "national", " 41010219900101123X "),
                Talent("李四", "provincial"),
            ),
            "fail",
            "2",
            id="an-id-number-is-compared-without-spaces-or-the-case-of-x",
        ),
        pytest.param(
            (
                Talent("张三", "national", "410102199001011234"),
                Talent("张三", "provincial"),
                Talent("李四", "provincial"),
            ),
            "fail",
            "2",
            id="a-name-without-id-number-is-the-person-with-that-name-and-one",
        ),
        pytest.param(
            (Talent("张三", "national"), Talent("李四", "provincial"), Talent("王五", "provincial")),
            "pass",
            "3",
            id="exactly-three-distinct-names",
        ),
        pytest.param(
            (
                Talent("张伟", "national", "410102199001011234"),
                Talent("张伟", "national", "410102198502025678"),
                Talent("张伟", "provincial", "110101197003033456"),
            ),
            "pass",
            "3",
            id="three-namesakes-with-different-id-numbers",
        ),
        pytest.param(
            (
                Talent("张三", "national"),
                Talent("张三", "national"),
                Talent("李四", "provincial"),
                Talent("王五", "provincial"),
            ),
            "pass",
            "3",
            id="four-entries-three-people",
        ),
    ],
)
def test_each_high_level_talent_counts_once_however_often_listed(
    rule_set: str, talents: tuple[Talent, ...], outcome: str, actual: str
) -> None:
    check = _check(rule_set, _facts(high_level_talents=talents), "high_level_talents")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≥ 3", actual)


def test_the_talent_message_says_that_repeated_entries_count_once() -> None:
    talents = (Talent("张三", "national"), Talent("张三", "national"), Talent("李四", "provincial"))
    check = _check("henan-2021", _facts(high_level_talents=talents), "high_level_talents")
    assert "国家或省级高层次人才2人（填报3条，同一人只计一次）" in check.message_zh
    assert "high-level talents: 2 (3 entries; each person counted once), below" in check.message_en


def test_the_talent_message_has_no_note_when_nobody_is_repeated() -> None:
    check = _check("henan-2021", BASE, "high_level_talents")
    assert "只计一次" not in check.message_zh
    assert "counted once" not in check.message_en


@pytest.mark.parametrize(("count", "outcome"), [(0, "fail"), (2, "fail"), (3, "pass"), (5, "pass")])
def test_the_2025_call_requires_three_high_level_teams(count: int, outcome: str) -> None:
    teams = tuple(Team(f"团队{i}", f"带头人{i}") for i in range(count))
    assert _check("henan-2025", _facts(high_level_teams=teams), "high_level_teams").outcome == outcome


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("lead", "outcome", "actual"),
    [
        (LEADING_ENTERPRISE, "pass", "leading backbone enterprise"),
        (_org("enterprise", leading=False), "fail", "not a leading backbone enterprise"),
        (UNIVERSITY, "pass", "not applicable"),
        (INSTITUTE, "pass", "not applicable"),
    ],
)
def test_an_enterprise_lead_must_be_a_leading_backbone_enterprise(
    rule_set: str, lead: OrgProfile, outcome: str, actual: str
) -> None:
    check = _check(rule_set, _inp(lead=lead), "leading_enterprise")
    assert (check.outcome, check.actual) == (outcome, actual)


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("spend", "outcome", "actual"),
    [
        (("4000", "4000", "4000"), "pass", "4000.00"),
        (("4000.00", "4000.00", "4000.00"), "pass", "4000.00"),
        (("3999.99", "3999.99", "3999.99"), "fail", "3999.99"),
        (("4000", "4000", "3999.99"), "fail", "3999.99"),
        (("3000", "4000", "5000"), "pass", "4000.00"),
        (("12000", "0", "0"), "pass", "4000.00"),
        (("8000", "9000", "10000"), "pass", "9000.00"),
        (("4000", "4000"), "fail", "2 years declared"),
        (("4000", "4000", "4000", "4000"), "fail", "4 years declared"),
        ((), "fail", "0 years declared"),
        (("4000", "NaN", "9000"), "fail", "invalid amount"),
        (("4000", "Infinity", "9000"), "fail", "invalid amount"),
    ],
)
def test_an_enterprise_lead_must_average_4000_wan_of_rd_spend_over_three_years(
    rule_set: str, spend: tuple[str, ...], outcome: str, actual: str
) -> None:
    check = _check(rule_set, _facts(rd_spend_wan=tuple(Decimal(v) for v in spend)), "rd_spend_3y_avg")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≥ 4000.00", actual)


def test_an_enterprise_lead_spending_exactly_4000_wan_passes() -> None:
    check = _check("henan-2021", _facts(rd_spend_wan=(Decimal("4000"),) * 3), "rd_spend_3y_avg")
    assert check.outcome == "pass"
    assert "4000.00" in check.message_zh
    assert "4000.00" in check.message_en


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize("lead", [UNIVERSITY, INSTITUTE])
def test_a_university_or_institute_lead_skips_the_rd_spend_rule(rule_set: str, lead: OrgProfile) -> None:
    inp = _inp(lead=lead, formation_mode="academic_led", facts=replace(BASE_FACTS, rd_spend_wan=()))
    check = _check(rule_set, inp, "rd_spend_3y_avg")
    assert (check.outcome, check.actual) == ("pass", "not applicable")


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("mode", "lead_kind", "participant_kinds", "outcome"),
    [
        ("enterprise_led", "enterprise", ("university",), "pass"),
        ("enterprise_led", "enterprise", ("research_institute", "enterprise"), "pass"),
        ("enterprise_led", "enterprise", ("enterprise",), "fail"),
        ("enterprise_led", "enterprise", (), "fail"),
        ("enterprise_led", "university", ("research_institute",), "fail"),
        ("enterprise_alliance", "enterprise", ("enterprise", "university"), "pass"),
        ("enterprise_alliance", "enterprise", ("enterprise", "enterprise", "research_institute"), "pass"),
        ("enterprise_alliance", "enterprise", ("university",), "fail"),
        ("enterprise_alliance", "enterprise", ("enterprise", "enterprise"), "fail"),
        ("enterprise_alliance", "university", ("enterprise", "enterprise"), "fail"),
        ("academic_led", "university", ("enterprise",), "pass"),
        ("academic_led", "research_institute", ("enterprise", "university"), "pass"),
        ("academic_led", "university", ("research_institute",), "fail"),
        ("academic_led", "enterprise", ("enterprise", "university"), "fail"),
        ("academic_led", "other", ("enterprise",), "fail"),
        ("joint_venture", "enterprise", ("enterprise", "university"), "fail"),
        ("", "enterprise", ("university",), "fail"),
    ],
)
def test_the_lead_and_participants_must_fit_the_formation_mode(
    rule_set: str, mode: str, lead_kind: str, participant_kinds: tuple[str, ...], outcome: str
) -> None:
    participants = tuple(_org(kind, org_id=f"p{i}") for i, kind in enumerate(participant_kinds))
    # The frontier field, where every mode may be chosen, so that only the organizations decide.
    inp = _inp(field="frontier", formation_mode=mode, lead=_org(lead_kind, leading=True), participants=participants)
    assert _check(rule_set, inp, "formation_mode_consistency").outcome == outcome


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize("field", codes(FIELDS))
@pytest.mark.parametrize(
    ("mode", "lead", "participants"),
    [
        ("academic_led", UNIVERSITY, (_org("enterprise"),)),
        ("academic_led", INSTITUTE, (_org("enterprise"),)),
        ("enterprise_led", LEADING_ENTERPRISE, (UNIVERSITY,)),
        ("enterprise_alliance", LEADING_ENTERPRISE, (_org("enterprise"), UNIVERSITY)),
    ],
)
def test_an_academic_lead_is_allowed_only_in_the_frontier_field_and_enterprise_modes_everywhere(
    rule_set: str, field: str, mode: str, lead: OrgProfile, participants: tuple[OrgProfile, ...]
) -> None:
    inp = _inp(field=field, formation_mode=mode, lead=lead, participants=participants)
    allowed = mode != "academic_led" or field == "frontier"
    assert _check(rule_set, inp, "formation_mode_consistency").outcome == ("pass" if allowed else "fail")


@pytest.mark.parametrize("rule_set", BOTH)
def test_an_academic_lead_outside_the_frontier_field_is_told_so_naming_the_field_in_both_languages(
    rule_set: str,
) -> None:
    inp = _inp(field="biomedicine", formation_mode="academic_led", lead=UNIVERSITY, participants=(_org("enterprise"),))
    check = _check(rule_set, inp, "formation_mode_consistency")
    assert check.outcome == "fail"
    assert check.expected == "university or research institute lead; ≥ 1 enterprise participant; field frontier only"
    assert check.actual == "lead university; participants: 1 enterprise, 0 university/institute; field biomedicine"
    assert check.message_zh == (
        "组建模式“高校院所牵头”仅适用于前瞻技术领域（前沿或颠覆性技术领域），申报领域“生物医药”不属于该领域"
    )
    assert check.message_en == (
        "Formation mode 'academic_led' is allowed only in the field 'frontier' (frontier or disruptive technologies); "
        "the applied field is 'biomedicine'"
    )


def test_an_academic_lead_failing_both_the_organizations_and_the_field_is_told_both() -> None:
    inp = _inp(field="biomedicine", formation_mode="academic_led", lead=UNIVERSITY, participants=(INSTITUTE,))
    check = _check("henan-2021", inp, "formation_mode_consistency")
    assert check.outcome == "fail"
    assert "至少1家企业参与" in check.message_zh
    assert "申报领域“生物医药”不属于该领域" in check.message_zh
    assert "which does not fit; " in check.message_en
    assert "the applied field is 'biomedicine'" in check.message_en


@pytest.mark.parametrize(("count", "outcome"), [(0, "pass"), (3, "pass"), (4, "fail")])
def test_the_2025_call_allows_at_most_three_participants(count: int, outcome: str) -> None:
    participants = (UNIVERSITY, *(_org("enterprise", org_id=f"e{i}") for i in range(3)))[:count]
    check = _check("henan-2025", _inp(participants=participants), "participants_cap")
    assert (check.outcome, check.expected, check.actual) == (outcome, "≤ 3", str(count))


def test_the_2021_notice_does_not_cap_participants() -> None:
    participants = tuple(_org("university", org_id=f"u{i}") for i in range(6))
    verdict = evaluate(get_rule_set("henan-2021"), _inp(participants=participants))
    assert verdict.eligible is True


@pytest.mark.parametrize(
    ("lead", "participants", "outcome", "actual"),
    [
        (UNIVERSITY, (_org("enterprise", leading=True),), "pass", "1"),
        (INSTITUTE, (_org("university"), _org("enterprise", leading=True)), "pass", "1"),
        (UNIVERSITY, (_org("enterprise", leading=False),), "fail", "0"),
        (UNIVERSITY, (_org("research_institute", leading=True),), "fail", "0"),
        (UNIVERSITY, (), "fail", "0"),
        (LEADING_ENTERPRISE, (UNIVERSITY,), "pass", "not applicable"),
    ],
)
def test_a_non_enterprise_lead_must_bring_a_leading_enterprise_under_the_2025_call(
    lead: OrgProfile, participants: tuple[OrgProfile, ...], outcome: str, actual: str
) -> None:
    check = _check("henan-2025", _inp(lead=lead, participants=participants), "leading_enterprise_participant")
    assert (check.outcome, check.actual) == (outcome, actual)


@pytest.mark.parametrize(
    ("registered_on", "call_opens_on", "judged_on", "outcome", "expected"),
    [
        (date(2024, 5, 1), date(2025, 5, 1), date(2025, 6, 1), "pass", "≤ 2024-05-01"),
        (date(2024, 5, 2), date(2025, 5, 1), date(2025, 6, 1), "fail", "≤ 2024-05-01"),
        (date(2010, 1, 1), date(2025, 5, 1), date(2025, 6, 1), "pass", "≤ 2024-05-01"),
        (None, date(2025, 5, 1), date(2025, 6, 1), "fail", "≤ 2024-05-01"),
        (date(2024, 6, 1), None, date(2025, 6, 1), "pass", "≤ 2024-06-01"),
        (date(2024, 6, 2), None, date(2025, 6, 1), "fail", "≤ 2024-06-01"),
        (date(2027, 2, 28), date(2028, 2, 29), date(2028, 3, 10), "pass", "≤ 2027-02-28"),
        (date(2027, 3, 1), date(2028, 2, 29), date(2028, 3, 10), "fail", "≤ 2027-02-28"),
    ],
)
def test_the_2025_call_requires_the_lead_registered_a_year_before_the_call_opens(
    registered_on: date | None, call_opens_on: date | None, judged_on: date, outcome: str, expected: str
) -> None:
    lead = replace(LEADING_ENTERPRISE, registered_on=registered_on)
    inp = _inp(lead=lead, call_opens_on=call_opens_on, judged_on=judged_on)
    check = _check("henan-2025", inp, "registered_in_henan")
    assert (check.outcome, check.expected) == (outcome, expected)


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize("field", codes(FIELDS))
def test_every_layout_field_is_accepted_without_a_call_restriction(rule_set: str, field: str) -> None:
    inp = _inp(field=field, call_fields=None, facts=replace(BASE_FACTS, platforms=(Platform("p", "national", field),)))
    assert _check(rule_set, inp, "field_in_layout").outcome == "pass"


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("field", "call_fields", "outcome"),
    [
        ("aerospace", None, "fail"),
        ("aerospace", ("aerospace",), "fail"),
        ("biomedicine", ("biomedicine", "smart_sensors"), "pass"),
        ("green_food", ("biomedicine", "smart_sensors"), "fail"),
        ("frontier", ("frontier",), "pass"),
        ("green_food", (), "pass"),
    ],
)
def test_the_field_must_be_in_the_layout_and_in_the_calls_fields(
    rule_set: str, field: str, call_fields: tuple[str, ...] | None, outcome: str
) -> None:
    check = _check(rule_set, _inp(field=field, call_fields=call_fields), "field_in_layout")
    assert (check.outcome, check.actual) == (outcome, field)


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("others", "outcome", "actual"),
    [((), "pass", "none"), (("app-1",), "fail", "app-1"), (("app-1", "app-2"), "fail", "app-1, app-2")],
)
def test_a_lead_may_have_only_one_live_application_per_call_and_the_failure_names_the_others(
    rule_set: str, others: tuple[str, ...], outcome: str, actual: str
) -> None:
    check = _check(rule_set, _inp(other_live_applications_in_call=others), "one_center_one_plan")
    assert (check.outcome, check.expected, check.actual) == (outcome, "none", actual)
    for other in others:
        assert other in check.message_zh
        assert other in check.message_en


def test_the_one_plan_failure_counts_and_lists_the_blocking_applications_in_both_languages() -> None:
    check = _check("henan-2021", _inp(other_live_applications_in_call=("app-1", "app-2")), "one_center_one_plan")
    assert check.message_zh == "牵头单位在本次申报中已有2项已提交的有效申请（app-1, app-2），一个中心只能有一个方案"
    assert check.message_en == (
        "The lead already has 2 submitted live application(s) in this call (app-1, app-2); one center, one plan"
    )


@pytest.mark.parametrize("machine", [APPLICATION, APPLICATION_FAST_TRACK], ids=lambda m: m.name)
def test_every_application_status_either_counts_for_one_plan_or_does_not(machine: StateMachine) -> None:
    counted, not_counted = set(PLAN_COUNTED_STATUSES), set(PLAN_NOT_COUNTED_STATUSES)
    assert not counted & not_counted
    assert counted | not_counted == set(machine.states)


def test_drafts_and_applications_turned_down_or_withdrawn_do_not_count_for_one_plan() -> None:
    assert set(PLAN_NOT_COUNTED_STATUSES) == {"draft", "withdrawn", "not_recommended", "rejected"}
    assert "returned" in PLAN_COUNTED_STATUSES  # submitted once, back with the lead for corrections: still live


@pytest.mark.parametrize("rule_set", BOTH)
@pytest.mark.parametrize(
    ("judged_on", "revocations", "outcome"),
    [
        (date(2025, 6, 1), (), "pass"),
        (date(2025, 6, 1), (date(2022, 6, 1),), "pass"),
        (date(2025, 6, 1), (date(2022, 6, 2),), "fail"),
        (date(2025, 6, 1), (date(2025, 6, 1),), "fail"),
        (date(2025, 6, 1), (date(2019, 1, 1), date(2024, 12, 31)), "fail"),
        (date(2025, 6, 1), (date(2019, 1, 1),), "pass"),
        (date(2025, 6, 1), (date(2025, 6, 2),), "pass"),
        (date(2024, 2, 29), (date(2021, 2, 28),), "pass"),
        (date(2024, 2, 29), (date(2021, 3, 1),), "fail"),
    ],
)
def test_a_lead_revoked_for_cause_within_three_years_may_not_apply(
    rule_set: str, judged_on: date, revocations: tuple[date, ...], outcome: str
) -> None:
    inp = _inp(judged_on=judged_on, for_cause_revocations_on=revocations)
    assert _check(rule_set, inp, "no_recent_revocation").outcome == outcome


def test_a_rule_set_built_from_known_rules_is_a_plain_value() -> None:
    rule_set = get_rule_set("henan-2021")
    assert isinstance(rule_set, RuleSet)
    assert hash(rule_set) == hash(get_rule_set("henan-2021"))
