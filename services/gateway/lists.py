"""Every GraphQL list as a CSV export sees it: the same listing (rows, sorts), the same filter input and
conditions (scope included, under the export's own row of the role table), and the columns of a line; its
default sort is the listing's, as the GraphQL sort input's is (pagination.sort_input).
The export then streams the list's statement (services/gateway/exports.py) instead of paging it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.people import Person

from services.gateway.schema.candidacy.queries import (
    CANDIDACIES, CANDIDATES, CandidacyFilter, CandidateFilter, candidacy_conditions, candidate_conditions,
)
from services.gateway.schema.catalog.queries import (
    BRANCHES, CERTIFICATIONS, ORGANISATIONS, BranchFilter, CertificationFilter, OrganisationFilter,
    branch_conditions, certification_conditions, organisation_conditions,
)
from services.gateway.schema.jury.queries import (
    JURY_SESSIONS, UNDECLARED_AWARDS, JurySessionFilter, UndeclaredAwardFilter, jury_session_conditions,
    undeclared_award_conditions,
)
from services.gateway.schema.pagination import Conditions, Listing


@dataclass(frozen=True)
class ListExport:
    operation: str  # its row of the role table
    listing: Listing
    filter: type  # the GraphQL list's filter input
    conditions: Callable[..., Awaitable[Conditions]]  # (context, filter, operation)
    header: list[str]
    line: Callable[[object, Person | None], list]  # (row, the person of its `person` column)
    person: str | None = None  # the column naming a candidate whose name the line shows
    public: bool = False


def _public(conditions):
    async def scoped(_context, f, _operation):
        return conditions(f)

    return scoped


def _join(values) -> str:
    return " ".join(values or [])


LISTS: dict[str, ListExport] = {
    "branches": ListExport(
        "exportBranches", BRANCHES, BranchFilter, _public(branch_conditions),
        ["code", "name", "idcc", "cpne"],
        lambda r, _: [r["code"], r["name"], _join(r["idcc"]), r["cpne"]], public=True),
    "certifications": ListExport(
        "exportCertifications", CERTIFICATIONS, CertificationFilter, _public(certification_conditions),
        ["code", "kind", "title", "owners", "registry", "level", "end_date"],
        lambda r, _: [r["code"], r["kind"], r["title"], _join(r["owners"]), r["registry"] or "", r["level"] or "",
                      r["end_date"] or ""], public=True),
    "organisations": ListExport(
        "exportOrganisations", ORGANISATIONS, OrganisationFilter, _public(organisation_conditions),
        ["id", "name", "siret", "kinds"],
        lambda r, _: [r["id"], r["name"], r["siret"] or "", _join(r["kinds"])], public=True),
    "candidates": ListExport(
        "exportCandidates", CANDIDATES, CandidateFilter, candidate_conditions,
        ["id", "family_name", "given_name", "status", "registered_at"],
        lambda r, p: [r["id"], p.family_name, p.given_name, r["status"], r["registered_at"].isoformat()],
        person="id"),
    "candidacies": ListExport(
        "exportCandidacies", CANDIDACIES, CandidacyFilter, candidacy_conditions,
        ["id", "candidate_id", "family_name", "given_name", "certification", "version", "route", "status",
         "evaluator_id", "trainer_id", "opened_at", "updated_at"],
        lambda r, p: [r["id"], r["candidate_id"], p.family_name, p.given_name, r["certification"], r["version"],
                      r["route"], r["status"], r["evaluator_id"], r["trainer_id"] or "", r["opened_at"].isoformat(),
                      r["updated_at"].isoformat()],
        person="candidate_id"),
    "jury-sessions": ListExport(
        "exportJurySessions", JURY_SESSIONS, JurySessionFilter, jury_session_conditions,
        ["id", "branch", "certifications", "held_on", "place", "remote", "capacity", "status"],
        lambda r, _: [r["id"], r["branch"], _join(r["certifications"]), r["held_on"], r["place"],
                      "yes" if r["remote"] else "no", r["capacity"], r["status"]]),
    "undeclared-awards": ListExport(
        "exportUndeclaredAwards", UNDECLARED_AWARDS, UndeclaredAwardFilter, undeclared_award_conditions,
        ["number", "holder", "certification", "version", "awarded_on", "declaration_state"],
        lambda r, p: [r["number"], p.name, r["certification"], r["version"], r["awarded_on"],
                      r["declaration_state"]], person="candidate_id"),
}
