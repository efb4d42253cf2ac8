"""Assessment schemes (考核指标体系) as versioned data: how a cycle's three accepted annual reports become indicator
scores 0–100, the weighted total and the grade it implies (issue 17 §2, domain.md §7).

A scheme never changes once published; new indicators or curves are a new scheme with a new name, as rule sets are.

Every indicator is made of parts; a part measures one thing from the reports (a growth, a total, a ratio, the
completion of task-book targets) and maps it to 0–100 with a piecewise-linear curve: below the first knot the first
score, past the last knot the last score, straight lines in between. Part scores and indicator scores are rounded
half up to 0.01 (ROUND_HALF_UP); the weighted total is `app.domain.assessment.weighted_score`, the grade
`app.domain.assessment.grade_for` — the same functions the recorded result is checked and graded with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Final

from app.domain import annual_figures as af
from app.domain.assessment import grade_for, weighted_score

_CENT: Final = Decimal("0.01")
_HUNDRED: Final = Decimal(100)
REPORTS_PER_CYCLE: Final = 3


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def piecewise(points: Sequence[tuple[Decimal, Decimal]], x: Decimal) -> Decimal:
    """The score of `x` on the curve through `points` (x ascending), rounded half up to 0.01."""
    if x <= points[0][0]:
        return _round(points[0][1])
    for (x0, y0), (x1, y1) in pairwise(points):
        if x <= x1:
            with localcontext() as ctx:
                ctx.prec = 50
                return _round(y0 + (x - x0) * (y1 - y0) / (x1 - x0))
    return _round(points[-1][1])


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """One accepted annual report of the cycle, as the scheme reads it."""

    report_id: str
    period_year: int
    figures: Mapping[str, Any]
    kpi_actuals: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class Input:
    """One figure a part was computed from: which report, which field, which value."""

    report_id: str
    period_year: int
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Measure:
    value: Decimal
    inputs: tuple[Input, ...]


Measurer = Callable[[Sequence[ReportFigures], Mapping[str, Decimal]], Measure]


def _input(report: ReportFigures, name: str, value: Any) -> Input:
    return Input(report.report_id, report.period_year, name, str(value))


def _sum(reports: Sequence[ReportFigures], names: Sequence[str]) -> Measure:
    total = Decimal(0)
    inputs: list[Input] = []
    for report in reports:
        for name in names:
            value = Decimal(str(report.figures[name]))
            total += value
            inputs.append(_input(report, name, report.figures[name]))
    return Measure(total, tuple(inputs))


def rd_spend_growth(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
    """Growth of R&D spend from the first to the last year of the cycle, in % rounded half up to 0.01. From a first
    year without R&D spend: −100 if the last year has none either, else 30 (the top of the curve)."""
    first, last = reports[0], reports[-1]
    base, end = af.money(first.figures, "rd_spend"), af.money(last.figures, "rd_spend")
    inputs = (_input(first, "rd_spend", first.figures["rd_spend"]), _input(last, "rd_spend", last.figures["rd_spend"]))
    if base == 0:
        return Measure(Decimal(-100) if end == 0 else Decimal(30), inputs)
    return Measure(_round((end - base) * _HUNDRED / base), inputs)


def rd_spend_average(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
    """Average yearly R&D spend over the cycle (万元), rounded half up to 0.01."""
    total = _sum(reports, ("rd_spend",))
    return Measure(_round(total.value / len(reports)), total.inputs)


def _total(*names: str) -> Measurer:
    def measure(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
        return _sum(reports, names)

    return measure


def rd_staff_ratio(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
    """R&D staff as % of all staff in the last year of the cycle, rounded half up to 0.01; 0 without staff."""
    last = reports[-1]
    rd, total = last.figures["rd_staff"], last.figures["staff_total"]
    inputs = (_input(last, "rd_staff", rd), _input(last, "staff_total", total))
    return Measure(_round(Decimal(rd) * _HUNDRED / Decimal(total)) if total else Decimal(0), inputs)


def weighted_projects(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
    """Projects undertaken over the cycle, a national project counting 2 and a provincial one 1."""
    total = Decimal(0)
    inputs: list[Input] = []
    for report in reports:
        for index, project in enumerate(report.figures.get("projects", [])):
            total += 2 if project["level"] == "national" else 1
            inputs.append(_input(report, f"projects[{index}].level", project["level"]))
    return Measure(total, tuple(inputs))


def project_amounts(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
    """The amounts (万元) of the projects undertaken over the cycle, summed exactly."""
    total = Decimal(0)
    inputs: list[Input] = []
    for report in reports:
        for index, project in enumerate(report.figures.get("projects", [])):
            total += af.project_amount(project)
            inputs.append(_input(report, f"projects[{index}].amount", project["amount"]))
    return Measure(total, tuple(inputs))


def kpi_completion(reports: Sequence[ReportFigures], targets: Mapping[str, Decimal]) -> Measure:
    """Completion of the task book's targets in the last year's `kpi_actuals`, in %: the mean over the targets of
    min(actual / target, 1), rounded half up to 0.01. A target of 0 is met by any actual; a target without an actual
    counts 0. The caller makes sure there is at least one target."""
    last = reports[-1]
    with localcontext() as ctx:
        ctx.prec = 50
        shares = Decimal(0)
        inputs: list[Input] = []
        for code, target in sorted(targets.items()):
            actual = last.kpi_actuals.get(code)
            inputs.append(_input(last, f"kpi_actuals.{code}", "" if actual is None else actual))
            if actual is None:
                continue
            shares += Decimal(1) if target == 0 else min(actual / target, Decimal(1))
        return Measure(_round(shares * _HUNDRED / len(targets)), tuple(inputs))


@dataclass(frozen=True, slots=True)
class Part:
    code: str
    share: int  # % of its indicator
    measure_zh: str
    measure_en: str
    unit: str
    measurer: Measurer
    points: tuple[tuple[Decimal, Decimal], ...]

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "share": self.share,
            "measure_zh": self.measure_zh,
            "measure_en": self.measure_en,
            "unit": self.unit,
            "curve": [{"value": str(x), "score": str(y)} for x, y in self.points],
        }


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    weight: int
    title_zh: str
    title_en: str
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    title_zh: str
    title_en: str
    source: str
    indicators: tuple[Indicator, ...]

    def __post_init__(self) -> None:
        if sum(i.weight for i in self.indicators) != 100:
            raise ValueError(f"scheme {self.name!r}: indicator weights must total 100")
        for indicator in self.indicators:
            if sum(p.share for p in indicator.parts) != 100:
                raise ValueError(f"scheme {self.name!r}: the parts of {indicator.code!r} must share 100")
            for part in indicator.parts:
                xs = [x for x, _ in part.points]
                if len(xs) < 2 or xs != sorted(set(xs)):
                    raise ValueError(f"scheme {self.name!r}: the curve of {part.code!r} needs ascending knots")

    @property
    def weights(self) -> Mapping[str, int]:
        return MappingProxyType({i.code: i.weight for i in self.indicators})

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "source": self.source,
            "reports_per_cycle": REPORTS_PER_CYCLE,
            "rounding": "ROUND_HALF_UP to 0.01 for every part, indicator and the weighted total",
            "indicators": [
                {
                    "code": i.code,
                    "weight": i.weight,
                    "title_zh": i.title_zh,
                    "title_en": i.title_en,
                    "parts": [p.describe() for p in i.parts],
                }
                for i in self.indicators
            ],
        }


@dataclass(frozen=True, slots=True)
class PartScore:
    code: str
    share: int
    value: Decimal
    score: Decimal
    formula: str
    inputs: tuple[Input, ...]


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    code: str
    weight: int
    score: Decimal
    parts: tuple[PartScore, ...]


@dataclass(frozen=True, slots=True)
class Proposal:
    indicators: tuple[IndicatorScore, ...]
    score: Decimal
    grade: str

    @property
    def indicator_values(self) -> dict[str, Decimal]:
        return {i.code: i.score for i in self.indicators}


def _formula(part: Part) -> str:
    knots = ", ".join(f"({x}, {y})" for x, y in part.points)
    return f"{part.measure_en}; piecewise-linear through {knots}, rounded half up to 0.01"


def propose(
    scheme: Scheme,
    reports: Sequence[ReportFigures],
    targets: Mapping[str, Decimal],
    bands: Sequence[tuple[str, Decimal]],
) -> Proposal:
    """Score the cycle's reports (exactly three, oldest first, every one with figures; the task book with at least
    one target): each part, each indicator (Σ part score × share / 100), the weighted total and its grade."""
    if len(reports) != REPORTS_PER_CYCLE:
        raise ValueError(f"a proposal needs {REPORTS_PER_CYCLE} reports, got {len(reports)}")
    if not targets:
        raise ValueError("a proposal needs the task book's targets")
    ordered = sorted(reports, key=lambda r: r.period_year)
    indicators: list[IndicatorScore] = []
    for indicator in scheme.indicators:
        parts: list[PartScore] = []
        for part in indicator.parts:
            measured = part.measurer(ordered, targets)
            score = piecewise(part.points, measured.value)
            parts.append(PartScore(part.code, part.share, measured.value, score, _formula(part), measured.inputs))
        total = _round(sum((p.score * p.share for p in parts), Decimal(0)) / _HUNDRED)
        indicators.append(IndicatorScore(indicator.code, indicator.weight, total, tuple(parts)))
    values = {i.code: i.score for i in indicators}
    score = weighted_score(values, scheme.weights)
    return Proposal(tuple(indicators), score, grade_for(score, bands))


def _d(*pairs: tuple[str, str]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(x), Decimal(y)) for x, y in pairs)


# The notice sets no indicator weights: 豫科〔2021〕116号 五、（四） (line 97 of the seed text) only says the province
# assesses recognized centers every 3 years and uses the result for post-subsidies and national recommendation. The
# weights are therefore the rule set's default (domain.md §7, after Henan's engineering-center evaluation) [practice];
# the curves' knots are [practice] too, anchored where the notice gives a number (cited at the part).
HENAN_2021_ASSESSMENT = Scheme(
    name="henan-2021-assessment",
    title_zh="河南省技术创新中心定期考核指标（依据豫科〔2021〕116号）",
    title_en="Henan Technology Innovation Centers: periodic assessment indicators (under 豫科〔2021〕116号)",
    source="豫科〔2021〕116号 五、（四）; weights per domain.md §7 [practice]",
    indicators=(
        Indicator(
            "rd_investment",
            40,
            "研发投入",
            "R&D investment",
            (
                Part(
                    "rd_spend_growth",
                    50,
                    "研发经费增长率（末年较首年）",
                    "growth of rd_spend from the first to the last year, %",
                    "%",
                    rd_spend_growth,
                    _d(("-20", "0"), ("0", "60"), ("10", "80"), ("30", "100")),
                ),
                Part(
                    "rd_spend_average",
                    50,
                    "年均研发经费",
                    "average yearly rd_spend, 万元",
                    "万元",
                    rd_spend_average,
                    # 4000 万元: the notice's three-year average for an enterprise lead, 二、（三）3 (seed line 59).
                    _d(("0", "0"), ("4000", "60"), ("10000", "100")),
                ),
            ),
        ),
        Indicator(
            "st_results",
            30,
            "科技成果",
            "S&T results",
            (
                Part(
                    "invention_patents_granted",
                    40,
                    "发明专利授权数（三年合计）",
                    "invention_patents_granted summed over the three years",
                    "件",
                    _total("invention_patents_granted"),
                    _d(("0", "0"), ("10", "60"), ("30", "100")),
                ),
                Part(
                    "standards_and_pct",
                    20,
                    "主导制定标准与PCT申请（三年合计）",
                    "standards_led + pct_filings summed over the three years",
                    "项",
                    _total("standards_led", "pct_filings"),
                    _d(("0", "0"), ("3", "60"), ("10", "100")),
                ),
                Part(
                    "task_book_completion",
                    40,
                    "任务书目标完成率（末年）",
                    "mean of min(actual / target, 1) over the task book's targets, last year's kpi_actuals, %",
                    "%",
                    kpi_completion,
                    _d(("0", "0"), ("100", "100")),
                ),
            ),
        ),
        Indicator(
            "talent_team",
            10,
            "人才队伍",
            "Talent team",
            (
                Part(
                    "rd_staff_ratio",
                    100,
                    "研发人员占职工总数比例（末年）",
                    "rd_staff / staff_total in the last year, %",
                    "%",
                    rd_staff_ratio,
                    # 10 %: the notice's floor for R&D staff among all staff, 二、（三）2.
                    _d(("0", "0"), ("10", "60"), ("30", "100")),
                ),
            ),
        ),
        Indicator(
            "research_projects",
            10,
            "科研项目",
            "Research projects",
            (
                Part(
                    "weighted_projects",
                    50,
                    "承担项目数（国家级计2，省级计1，三年合计）",
                    "projects over the three years, national 2 and provincial 1",
                    "项",
                    weighted_projects,
                    _d(("0", "0"), ("3", "60"), ("10", "100")),
                ),
                Part(
                    "project_amounts",
                    50,
                    "承担项目经费（三年合计）",
                    "project amounts summed over the three years, 万元",
                    "万元",
                    project_amounts,
                    _d(("0", "0"), ("500", "60"), ("3000", "100")),
                ),
            ),
        ),
        Indicator(
            "industry_academia_cooperation",
            10,
            "产学研合作与服务",
            "Industry–academia cooperation",
            (
                Part(
                    "transfer_and_platform_income",
                    50,
                    "技术转移与平台服务收入（三年合计）",
                    "tech_transfer_income + platform_income summed over the three years, 万元",
                    "万元",
                    _total("tech_transfer_income", "platform_income"),
                    _d(("0", "0"), ("500", "60"), ("2000", "100")),
                ),
                Part(
                    "enterprises",
                    30,
                    "孵化与服务企业数（三年合计）",
                    "incubated_enterprises + served_enterprises summed over the three years",
                    "家",
                    _total("incubated_enterprises", "served_enterprises"),
                    _d(("0", "0"), ("30", "60"), ("100", "100")),
                ),
                Part(
                    "shared_equipment_hours",
                    20,
                    "大型仪器设备共享机时（三年合计）",
                    "shared_equipment_hours summed over the three years",
                    "小时",
                    _total("shared_equipment_hours"),
                    _d(("0", "0"), ("1000", "60"), ("5000", "100")),
                ),
            ),
        ),
    ),
)

SCHEMES: Mapping[str, Scheme] = MappingProxyType({s.name: s for s in (HENAN_2021_ASSESSMENT,)})
# The scheme each rule set's cycles are scored with; henan-2025 keeps the 2021 indicators until a source changes them.
SCHEME_OF_RULE_SET: Mapping[str, str] = MappingProxyType(
    {"henan-2021": "henan-2021-assessment", "henan-2025": "henan-2021-assessment"}
)


def scheme_for(rule_set: str) -> Scheme:
    """The assessment scheme of a cycle judged under `rule_set`; KeyError for a rule set without one."""
    return SCHEMES[SCHEME_OF_RULE_SET[rule_set]]


def adjustment_errors(
    adjustments: Mapping[str, tuple[Decimal, str]], weights: Mapping[str, int]
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """An adjustment names an indicator of the scheme and gives a reason that is not blank."""
    errors: list[tuple[tuple[str | int, ...], str, str]] = []
    for code, (_, reason) in adjustments.items():
        if code not in weights:
            errors.append((("body", "adjustments", code), "not an indicator of the scheme", "unknown_indicator"))
        elif not reason.strip():
            errors.append((("body", "adjustments", code, "reason"), "a reason is required", "missing"))
    return errors
