"""`dashboard(scope, from, to, top)`: a branch's, an organisation's or a certification's figures, scoped by
the role table's row `dashboard` (an unknown target is NotFound, one out of reach Forbidden; the figures
count only the candidacies the caller may read)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Union

import strawberry
from strawberry.types import Info

from shared import errors

from services.gateway.schema.context import Context
from services.gateway.reports import dashboard as report
from services.gateway.schema.dashboards.types import Dashboard, DashboardScope
from services.gateway.schema.errors import Forbidden, InvalidInput, NotFound, Problem
from services.gateway.schema.permissions import Authenticated

DashboardResult = Annotated[Union[Dashboard, Forbidden, NotFound, InvalidInput],  # noqa: UP007
                            strawberry.union("DashboardResult")]


def target_of(scope: DashboardScope) -> report.Target:
    """The one thing the scope names (an empty kind when it names none or several: refused by `check`)."""
    given = [(kind, value) for kind, value in (("BRANCH", scope.branch), ("ORGANISATION", scope.organisation),
                                               ("CERTIFICATION", scope.certification)) if value is not None]
    return report.Target(given[0][0], str(given[0][1])) if len(given) == 1 else report.Target("", "")


@strawberry.type
class DashboardQueries:
    @strawberry.field(permission_classes=[Authenticated],
                      description="Candidacies by status and route, the funnel from registration to award, pass "
                                  "rates, time to decision and the most failed blocks of a branch, an organisation "
                                  "or a certification, over the candidacies opened in the period (both dates "
                                  "included, both optional) that the caller may read")
    async def dashboard(
        self, info: Info[Context, None], scope: DashboardScope,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        top: Annotated[int, strawberry.argument(description="How many of the most failed blocks")] = 10,
    ) -> DashboardResult:
        target = target_of(scope)
        try:
            figures = await report.figures(info.context.pool, await info.context.caller(), target,
                                           report.Period(from_, to), top)
        except errors.InvalidInput as refusal:
            return InvalidInput(code=refusal.type, message=refusal.message, details=refusal.details,
                                problems=[Problem(**p) for p in refusal.details.get("problems", [])])
        except errors.NotFound as refusal:
            return NotFound(code=refusal.type, message=refusal.message, details=refusal.details)
        except errors.Forbidden as refusal:
            return Forbidden(code=refusal.type, message=refusal.message, details=refusal.details)
        return Dashboard.of(target.kind, target.key, from_, to, figures)
