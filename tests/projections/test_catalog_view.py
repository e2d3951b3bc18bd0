"""The candidacy service's view of the catalog (shared/catalog_view.py, services/candidacy/catalog_view.py):
catalog events in, the facts its decisions read out, on a real PostgreSQL. A change the view skipped
would leave authorization and positioning deciding on stale owners, accreditations or equivalences."""

import uuid
from datetime import date

import asyncpg
import pytest

from shared.contracts import catalog as c
from shared.migrations import migrate
from tests.harness import fresh_database, infrastructure
from tests.projections.conftest import envelope

from services.candidacy import catalog_view

CODE = "CQPM0264"


@pytest.fixture
async def db():
    _, dsn = infrastructure()
    conn = await asyncpg.connect(await fresh_database(dsn))
    await conn.execute("CREATE SCHEMA view")
    await conn.execute("SET search_path TO view")
    await migrate(conn, catalog_view.MIGRATIONS)
    yield conn
    await conn.close()


async def apply(conn: asyncpg.Connection, *facts: c.Contract, aggregate_id: uuid.UUID | str | None = None) -> None:
    """As the inbox does: the service's handler of the catalog topic, one transaction per event."""
    for fact in facts:
        async with conn.transaction():
            await catalog_view.apply_catalog(conn, envelope(fact, aggregate_id))


async def certification(conn: asyncpg.Connection, owners: list[str]) -> None:
    await apply(conn, c.CertificationCreated(code=CODE, kind="CQPM", title="Technicien", owners=owners),
                aggregate_id=uuid.uuid4())


async def test_changed_owners_are_the_branches_a_candidacy_s_rights_are_checked_on(db):
    await certification(db, ["UIMM"])
    await apply(db, c.CertificationOwnersChanged(code=CODE, owners=["LEEM", "UIT"]))
    assert await catalog_view.owners(db, CODE) == {"LEEM", "UIT"}
    assert await catalog_view.owners_by_certification(db, [CODE, "RNCP0"]) == {CODE: {"LEEM", "UIT"}}
    assert (await catalog_view.owners_by_certification(db))[CODE] == {"LEEM", "UIT"}


async def test_a_withdrawn_accreditation_accredits_no_evaluator_from_its_date_on(db):
    await certification(db, ["UIMM"])
    org, accreditation = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(db, c.OrganisationAccredited(
        organisation_id=org, accreditation_id=accreditation, branch="UIMM", certifications=[CODE],
        scope="EVALUATION", valid_from=date(2026, 1, 1), valid_until=None), aggregate_id=org)
    assert (await catalog_view.certification_facts(db, CODE, date(2026, 6, 1))).accredited_evaluators == {org}

    await apply(db, c.AccreditationWithdrawn(organisation_id=org, accreditation_id=accreditation,
                                             on=date(2026, 6, 1), reason="audit"), aggregate_id=org)

    assert (await catalog_view.certification_facts(db, CODE, date(2026, 5, 31))).accredited_evaluators == {org}
    assert (await catalog_view.certification_facts(db, CODE, date(2026, 6, 1))).accredited_evaluators == set()
    assert not await catalog_view.accredited(db, org, date(2026, 6, 1))


async def test_recorded_block_equivalences_replace_the_earlier_ones_in_the_positioning_facts(db):
    await certification(db, ["UIMM"])
    first = c.Equivalence(blocks=["B1"], target="RNCP1", target_blocks=["RNCP1BC01"], source="BRANCH")
    second = c.Equivalence(blocks=["B1", "B2"], target="RNCP2", target_blocks=[], source="FRANCE_COMPETENCES")
    await apply(db, c.BlockEquivalencesRecorded(code=CODE, equivalences=[first]))
    await apply(db, c.BlockEquivalencesRecorded(code=CODE, equivalences=[second]))
    facts = await catalog_view.certification_facts(db, CODE, date(2026, 1, 1))
    assert facts.equivalences == [second.model_dump(mode="json")]
