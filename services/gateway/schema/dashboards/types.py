"""The dashboard's GraphQL types: what services/gateway/reports/dashboard.py computes, as it computes it."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

import strawberry

from services.gateway.schema.vocabulary import CandidacyStatus, Route

if TYPE_CHECKING:  # the report imports the schema's pagination: no import back at run time
    from services.gateway.reports.dashboard import Figures, PassRate


@strawberry.input(description="What the dashboard is about: exactly one branch, organisation or certification")
class DashboardScope:
    branch: str | None = None
    organisation: strawberry.ID | None = strawberry.field(
        default=None, description="The candidacies it evaluates, trains, employs or funds")
    certification: str | None = None


@strawberry.enum
class DashboardScopeKind(enum.Enum):
    BRANCH = "BRANCH"
    ORGANISATION = "ORGANISATION"
    CERTIFICATION = "CERTIFICATION"


@strawberry.type
class StatusCount:
    status: CandidacyStatus
    count: int


@strawberry.type
class RouteCount:
    route: Route
    count: int


@strawberry.type(description="How far the cohort's candidacies went: each stage counts those that reached it")
class Funnel:
    candidates: int = strawberry.field(description="Distinct candidates of the candidacies")
    opened: int
    positioned: int
    evaluated: int = strawberry.field(description="With at least one evaluation recorded")
    presented: int = strawberry.field(description="Presented to a jury session")
    decided: int = strawberry.field(description="With a full award, partial validation or refusal")
    awarded: int = strawberry.field(description="Holding a certificate (not revoked)")


@strawberry.type(description="Jury outcomes of one certification, evaluation organisation or session; rates are "
                             "shares of its outcomes (four decimals)")
class PassRateRow:
    key: str = strawberry.field(description="The certification's code, the organisation's id or the session's id")
    label: str = strawberry.field(description="Its title, name, or day and place")
    decided: int
    full_awards: int
    partial_validations: int
    refusals: int
    full_rate: float | None
    partial_rate: float | None
    refusal_rate: float | None

    @classmethod
    def of(cls, r: PassRate) -> PassRateRow:
        return cls(key=r.key, label=r.label, decided=r.decided, full_awards=r.full_awards,
                   partial_validations=r.partial_validations, refusals=r.refusals, full_rate=r.full_rate,
                   partial_rate=r.partial_rate, refusal_rate=r.refusal_rate)


@strawberry.type
class PassRates:
    by_certification: list[PassRateRow]
    by_evaluator: list[PassRateRow] = strawberry.field(description="By the candidacy's evaluation organisation")
    by_session: list[PassRateRow]


@strawberry.type(description="Days from the opening of a candidacy to its first jury outcome")
class TimeToDecision:
    decided: int = strawberry.field(description="The candidacies measured")
    median_days: float | None
    p90_days: float | None = strawberry.field(description="90th percentile (interpolated)")


@strawberry.type
class FailedBlock:
    block: str
    certification: str
    failures: int = strawberry.field(description="Evaluations of the block not validated")


@strawberry.type(description="Figures over the candidacies of the scope opened in the period that the caller may "
                             "read, taken from one snapshot")
class Dashboard:
    kind: DashboardScopeKind
    key: str
    from_: date | None = strawberry.field(name="from")
    to: date | None
    by_status: list[StatusCount]
    by_route: list[RouteCount]
    funnel: Funnel
    pass_rates: PassRates
    time_to_decision: TimeToDecision
    most_failed_blocks: list[FailedBlock]

    @classmethod
    def of(cls, kind: str, key: str, start: date | None, end: date | None, f: Figures) -> Dashboard:
        rows = {g: [PassRateRow.of(r) for r in f.pass_rates if r.grouping == g]
                for g in ("CERTIFICATION", "EVALUATOR", "SESSION")}
        return cls(
            kind=DashboardScopeKind(kind), key=key, from_=start, to=end,
            by_status=[StatusCount(status=CandidacyStatus(s), count=n) for s, n in sorted(f.by_status.items())],
            by_route=[RouteCount(route=Route(r), count=n) for r, n in sorted(f.by_route.items())],
            funnel=Funnel(**f.funnel),
            pass_rates=PassRates(by_certification=rows["CERTIFICATION"], by_evaluator=rows["EVALUATOR"],
                                 by_session=rows["SESSION"]),
            time_to_decision=TimeToDecision(decided=f.decided, median_days=f.median_days, p90_days=f.p90_days),
            most_failed_blocks=[FailedBlock(block=b, certification=c, failures=n) for b, c, n in f.failed_blocks])
