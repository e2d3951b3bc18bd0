"""The dashboard's pure parts: its input checks, its rates, the target of a GraphQL scope, and the cohort
its figures count (the target, the period and the caller's scope, all in SQL)."""

from datetime import date

import pytest

from shared.errors import Forbidden, InvalidInput
from shared.identity import Caller
from shared.policy import Record, authorize

from services.gateway.reports.dashboard import PassRate, Period, Target, check, cohort, rate
from services.gateway.schema.dashboards.queries import target_of
from services.gateway.schema.dashboards.types import DashboardScope


def caller(roles, organisation="ORG", branches=()):
    return Caller(user_id="u", organisation_id=organisation, branches=tuple(branches), roles=frozenset(roles))


def test_a_rate_is_a_share_rounded_to_four_decimals_and_none_of_nothing():
    assert rate(1, 3) == 0.3333 and rate(2, 2) == 1.0 and rate(0, 5) == 0.0
    assert rate(0, 0) is None


def test_a_pass_rate_row_gives_the_share_of_each_outcome():
    row = PassRate("CERTIFICATION", "RNCP1", "T", decided=4, full_awards=2, partial_validations=1, refusals=1)
    assert (row.full_rate, row.partial_rate, row.refusal_rate) == (0.5, 0.25, 0.25)


@pytest.mark.parametrize("scope, target", [
    (DashboardScope(branch="UIMM"), Target("BRANCH", "UIMM")),
    (DashboardScope(organisation="42"), Target("ORGANISATION", "42")),
    (DashboardScope(certification="RNCP1"), Target("CERTIFICATION", "RNCP1")),
    (DashboardScope(), Target("", "")),
    (DashboardScope(branch="UIMM", certification="RNCP1"), Target("", "")),
])
def test_a_scope_names_exactly_one_target_or_none(scope, target):
    assert target_of(scope) == target


@pytest.mark.parametrize("target, period, top, field", [
    (Target("", ""), Period(), 10, "scope"),
    (Target("BRANCH", " "), Period(), 10, "scope"),
    (Target("BRANCH", "UIMM"), Period(date(2025, 2, 1), date(2025, 1, 31)), 10, "to"),
    (Target("BRANCH", "UIMM"), Period(), 0, "top"),
    (Target("BRANCH", "UIMM"), Period(), 51, "top"),
])
def test_an_empty_or_double_scope_a_backward_period_or_a_silly_top_is_invalid_input(target, period, top, field):
    with pytest.raises(InvalidInput) as refused:
        check(target, period, top)
    assert refused.value.details["problems"][0]["field"] == field


def test_a_period_of_one_day_and_an_open_period_are_valid():
    check(Target("BRANCH", "UIMM"), Period(date(2025, 1, 1), date(2025, 1, 1)))
    check(Target("CERTIFICATION", "RNCP1"), Period(None, date(2025, 1, 1)), top=50)


def test_the_cohort_of_a_branch_is_its_certifications_in_the_period_within_the_callers_branches():
    c = cohort(caller(["branch-admin"], branches=["UIMM"]), Target("BRANCH", "UIMM"),
               Period(date(2025, 1, 1), date(2025, 12, 31)))
    assert c.where == (" WHERE certification IN (SELECT code FROM certifications WHERE owners @> ARRAY[$1]::text[])"
                       " AND opened_at >= $2 AND opened_at < ($3::date + 1)"
                       " AND (certification IN (SELECT code FROM certifications WHERE owners && $4::text[]))")
    assert c.args == ["UIMM", date(2025, 1, 1), date(2025, 12, 31), ["UIMM"]]


def test_the_cohort_of_an_organisation_seen_by_its_evaluator_is_only_what_it_evaluates():
    c = cohort(caller(["evaluator"], organisation="C1"), Target("ORGANISATION", "C1"), Period())
    assert c.where.endswith(" AND (evaluator_id = $5)") and c.args == ["C1"] * 5


def test_a_role_without_the_dashboard_row_counts_nothing():
    c = cohort(caller(["jury-member"], branches=["UIMM"]), Target("BRANCH", "UIMM"), Period())
    assert c.where.endswith(" AND FALSE")


@pytest.mark.parametrize("who, record, allowed", [
    (caller(["platform-admin"], organisation="platform"), Record(branches=frozenset({"LEEM"})), True),
    (caller(["branch-admin"], branches=["UIMM"]), Record(branches=frozenset({"UIMM"})), True),
    (caller(["auditor"], branches=["UIMM"]), Record(branches=frozenset({"LEEM"})), False),
    (caller(["evaluator"], organisation="C1"), Record(evaluator="C1", trainer="C1", employer="C1"), True),
    (caller(["evaluator"], organisation="C2"), Record(evaluator="C1", trainer="C1", employer="C1"), False),
    (caller(["evaluator"], organisation="C1"), Record(branches=frozenset({"UIMM"})), False),
    (caller(["certifier"], branches=["UIMM"]), Record(branches=frozenset({"UIMM"})), False),
])
def test_a_dashboards_target_is_reached_as_the_role_table_says(who, record, allowed):
    if allowed:
        authorize("dashboard", record, who)
    else:
        with pytest.raises(Forbidden):
            authorize("dashboard", record, who)
