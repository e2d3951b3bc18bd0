"""Batched reads of the candidacy read models, one set of DataLoaders per request. A person's
candidacies are read within the caller's scope (the role table), so the batch needs the request's
context: its caller is verified once, and every candidate of the page is read in one statement."""

from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from services.gateway import scopes
from services.gateway.schema.pagination import Conditions


def per_candidate(ids: list[str], rows) -> list[list]:
    """The rows of each candidate of `ids`, in that order (rows in the order read)."""
    by_candidate = defaultdict(list)
    for row in rows:
        by_candidate[str(row["candidate_id"])].append(row)
    return [by_candidate[str(i)] for i in ids]


def candidacy_loaders(context) -> dict[str, DataLoader]:
    async def candidacies_of_candidate(ids: list[str]) -> list[list]:
        c = Conditions()
        c.add("candidate_id = ANY(?::uuid[])", ids)
        c.add_scope(scopes.candidacies(await context.caller()))
        return per_candidate(ids, await context.pool.fetch(f"SELECT * FROM candidacies{c.where} ORDER BY opened_at, id",
                                                           *c.args))

    async def certificates_of_candidate(ids: list[str]) -> list[list]:
        """Only those awarded on a candidacy the caller may read, as `candidacies` shows them: a person
        reached through one candidacy does not show what they obtained elsewhere."""
        c = Conditions()
        c.add("candidate_id = ANY(?::uuid[])", ids)
        caller = await context.caller()
        c.add_scope(scopes.candidacies(caller))
        within = c.where
        c.add_scope(scopes.published(caller, "candidacies"))  # its session's results published, or the jury side
        return per_candidate(ids, await context.pool.fetch(
            f"SELECT * FROM certificates WHERE candidacy_id IN (SELECT id FROM candidacies{within})"
            f" AND {c.clauses[-1]} ORDER BY awarded_on, number", *c.args))

    async def candidates(ids: list[str]) -> list:
        """Candidates by id, as `candidate` shows them: those the caller may read, the others None."""
        c = Conditions()
        c.add("id = ANY(?::uuid[])", ids)
        c.add_scope(scopes.candidates(await context.caller(), "candidate"))
        by_id = {str(row["id"]): row for row in await context.pool.fetch(f"SELECT * FROM candidates{c.where}", *c.args)}
        return [by_id.get(str(i)) for i in ids]

    return {"candidacies_of_candidate": DataLoader(candidacies_of_candidate), "candidate": DataLoader(candidates),
            "certificates_of_candidate": DataLoader(certificates_of_candidate)}
