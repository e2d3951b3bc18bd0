from __future__ import annotations

from datetime import date, datetime

import strawberry

from services.gateway.schema.deadlines.projection import state_at
from services.gateway.schema.vocabulary import DeadlineKind, DeadlineState, UnansweredAdmissibility


@strawberry.type(description="A date the process must meet (services/jury/deadlines): opened by an event, DUE from "
                             "its reminder day, MET by the event that fulfils it, MISSED once its day has passed, or "
                             "CANCELLED when what opened it is undone; at `asOf`, as it stood then")
class Deadline:
    id: strawberry.ID
    kind: DeadlineKind
    state: DeadlineState
    subject: str = strawberry.field(description="What it is about: a certificate's number, a session, a certification's "
                                                "code, an accreditation…")
    branch: str | None
    certification: str | None
    candidacy_id: strawberry.ID | None
    session_id: strawberry.ID | None
    responsible_organisation_id: str | None = strawberry.field(description="The organisation that must meet it, when "
                                                                           "one does")
    responsible_role: str = strawberry.field(description="The role that must meet it (certifier, jury-secretary…)")
    opened_on: date
    remind_on: date
    due_on: date
    due_since: date | None
    met_on: date | None
    met_late: bool | None
    missed_on: date | None
    cancelled_on: date | None
    cancellation_reason: str | None
    effect: UnansweredAdmissibility | None = strawberry.field(description="For an admissibility answer: what the branch "
                                                                          "configured to happen once it is missed")

    @classmethod
    def from_row(cls, row, as_of: datetime | None = None) -> Deadline:
        """The row as it stood at `as_of` (None: now): the transitions recorded after it are not shown."""
        def then(column: str, value):
            return value if row[column] is not None and (as_of is None or row[column] <= as_of) else None

        return cls(id=strawberry.ID(row["id"]), kind=DeadlineKind(row["kind"]), state=DeadlineState(state_at(row, as_of)),
                   subject=row["subject"], branch=row["branch"], certification=row["certification"],
                   candidacy_id=strawberry.ID(str(row["candidacy_id"])) if row["candidacy_id"] else None,
                   session_id=strawberry.ID(str(row["session_id"])) if row["session_id"] else None,
                   responsible_organisation_id=row["responsible_organisation"], responsible_role=row["responsible_role"],
                   opened_on=row["opened_on"], remind_on=row["remind_on"], due_on=row["due_on"],
                   due_since=then("due_at", row["due_since"]), met_on=then("met_at", row["met_on"]),
                   met_late=then("met_at", row["met_late"]), missed_on=then("missed_at", row["missed_on"]),
                   cancelled_on=then("cancelled_at", row["cancelled_on"]),
                   cancellation_reason=then("cancelled_at", row["cancellation_reason"]),
                   effect=UnansweredAdmissibility(row["effect"]) if row["effect"] else None)


@strawberry.type(description="A message sent about a record: to whom (their role and id), when, which template; never "
                             "its content nor an address")
class Notification:
    id: strawberry.ID
    template: str
    recipient_role: str
    recipient_id: str
    organisation: str | None = strawberry.field(description="Whose message it is")
    legally_required: bool = strawberry.field(description="A message no preference stops (a convocation)")
    sent_at: datetime

    @classmethod
    def from_row(cls, row) -> Notification:
        return cls(id=strawberry.ID(row["id"]), template=row["template"], recipient_role=row["recipient_role"],
                   recipient_id=row["recipient_id"], organisation=row["organisation"],
                   legally_required=row["legally_required"], sent_at=row["sent_at"])


def sent(rows: list, as_of: datetime | None) -> list[Notification]:
    """The messages recorded by `as_of` (all: None)."""
    return [Notification.from_row(r) for r in rows if as_of is None or r["recorded_at"] <= as_of]


def past(rows: list, as_of: datetime | None) -> list[Deadline]:
    """The deadlines that existed at `as_of` (all: None), each as it stood then."""
    return [Deadline.from_row(r, as_of) for r in rows if as_of is None or r["opened_at"] <= as_of]
