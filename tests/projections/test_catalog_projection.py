"""services/gateway/schema/catalog/projection.py: branches, organisations, accreditations, certifications."""

import json
import uuid
from datetime import date

from shared.contracts import catalog as c

from tests.projections.conftest import apply, envelope

TOPIC = c.TOPIC
SETTINGS = c.VersionSettings(vae_min_experience_months=12, block_validity_months=None, jury_quorum=2,
                             jury_rule="PARITY")


async def test_a_published_referential_version_becomes_the_current_one_with_its_block_titles(db):
    cert = uuid.uuid4()
    await apply(db, TOPIC, envelope(c.CertificationCreated(code="CQPM0264", kind="CQPM", title="Technicien",
                                                           owners=["UIMM"]), cert))
    for version, titles in ((1, ["Usiner", "Contrôler"]), (2, ["Usiner des pièces", "Régler"])):
        blocks = [c.Block(code=f"B{i}", title=t) for i, t in enumerate(titles, start=1)]
        await apply(db, TOPIC, envelope(c.ReferentialVersionPublished(
            code="CQPM0264", version=version, effective_from=date(2026, version, 1), blocks=blocks,
            settings=SETTINGS), cert))
    row = await db.fetchrow("SELECT * FROM certifications WHERE code = 'CQPM0264'")
    assert (row["id"], row["current_version"], row["block_titles"]) == (cert, 2, "Usiner des pièces Régler")
    assert await db.fetchval("SELECT count(*) FROM certification_versions WHERE code = 'CQPM0264'") == 2
    first = json.loads(await db.fetchval("SELECT blocks FROM certification_versions WHERE version = 1"))
    assert [b["title"] for b in first] == ["Usiner", "Contrôler"]


async def test_a_withdrawn_accreditation_keeps_its_dates_and_says_why_and_when(db):
    org, accreditation = str(uuid.uuid4()), str(uuid.uuid4())
    await apply(db, TOPIC, envelope(c.OrganisationRegistered(organisation_id=org, name="Centre", siret=None,
                                                             kinds=["EVALUATION_CENTRE"]), org))
    await apply(db, TOPIC, envelope(c.OrganisationAccredited(
        organisation_id=org, accreditation_id=accreditation, branch="UIMM", certifications=["CQPM0264"],
        scope="EVALUATION", valid_from=date(2026, 1, 1), valid_until=date(2028, 12, 31)), org))
    await apply(db, TOPIC, envelope(c.AccreditationWithdrawn(organisation_id=org, accreditation_id=accreditation,
                                                             on=date(2026, 6, 1), reason="audit"), org))
    row = await db.fetchrow("SELECT * FROM accreditations WHERE id = $1::uuid", accreditation)
    assert (row["valid_from"], row["valid_until"], row["withdrawn_on"], row["withdrawal_reason"]) == \
        (date(2026, 1, 1), date(2028, 12, 31), date(2026, 6, 1), "audit")


async def test_a_retitled_certification_changes_its_title_and_nothing_else(db):
    cert = uuid.uuid4()
    await apply(db, TOPIC, envelope(c.CertificationCreated(code="CQP1", kind="CQP", title="Old", owners=["B"]), cert))
    await apply(db, TOPIC, envelope(c.CertificationRetitled(code="CQP1", title="New"), cert))
    row = await db.fetchrow("SELECT title, owners, kind FROM certifications WHERE code = 'CQP1'")
    assert (row["title"], row["owners"], row["kind"]) == ("New", ["B"], "CQP")


async def test_a_branchs_delays_are_shown_as_it_set_them_and_the_defaults_before(db):
    branch = uuid.uuid4()
    await apply(db, TOPIC, envelope(c.BranchCreated(code="UIMM", name="Métallurgie", idcc=["3109"], cpne=""), branch))
    assert await db.fetchval("SELECT deadlines FROM branches WHERE code = 'UIMM'") is None
    delays = c.BranchDeadlines(declaration_months=2, results_days_after=30)
    await apply(db, TOPIC, envelope(c.BranchDeadlinesSet(branch="UIMM", deadlines=delays), branch))
    shown = json.loads(await db.fetchval("SELECT deadlines FROM branches WHERE code = 'UIMM'"))
    assert (shown["declaration_months"], shown["results_days_after"], shown["admissibility_answer_days"]) == (2, 30, 60)
