"""services/gateway/schema/candidacy/projection.py: candidates and candidacies as their events say."""

import json
import uuid

from shared.contracts import candidacy as c
from shared.vocabulary import CandidacyStatus

from tests.projections.conftest import apply, envelope

TOPIC = c.TOPIC


def opened(candidacy_id: uuid.UUID, candidate_id: uuid.UUID, route: str = "VAE") -> c.CandidacyOpened:
    return c.CandidacyOpened(candidacy_id=str(candidacy_id), status=CandidacyStatus.OPEN,
                             candidate_id=str(candidate_id), certification="CQPM0264", version=1, route=route,
                             blocks=["B1", "B2"], evaluator_id="e1", trainer_id=None, employer_id="emp",
                             experience_months=14)


async def status_of(db, candidacy_id) -> str:
    return await db.fetchval("SELECT status FROM candidacies WHERE id = $1", candidacy_id)


async def test_a_registered_candidate_is_kept_without_personal_data_and_with_the_organisation_that_registered_them(db):
    candidate = uuid.uuid4()
    fact = c.CandidateRegistered(candidate_id=str(candidate), personal="pd1.sealed", status="EMPLOYEE",
                                 employer_id="emp", account="jdoe")
    # Version 2, before logins waited for confirmation: its login is the candidate's, as it was then.
    version_2 = fact.model_dump(mode="json", exclude={"invited_account"})
    await apply(db, TOPIC, envelope(fact, candidate, version=2, payload=version_2))
    row = await db.fetchrow("SELECT * FROM candidates WHERE id = $1", candidate)
    assert (row["status"], row["employer_id"], row["account"], row["registered_by"]) == \
        ("EMPLOYEE", "emp", "jdoe", "11111111-1111-1111-1111-111111111111")
    assert "pd1.sealed" not in json.dumps({k: str(v) for k, v in dict(row).items()})


async def test_a_login_named_at_registration_reaches_the_candidate_once_confirmed_and_each_entrustment_is_kept(db):
    candidate = uuid.uuid4()
    await apply(db, TOPIC, envelope(c.CandidateRegistered(candidate_id=str(candidate), personal="pd1.x",
                                                          status="EMPLOYEE", employer_id=None, invited_account="ana"),
                                    candidate))
    row = await db.fetchrow("SELECT account, invited_account, entrusted FROM candidates WHERE id = $1", candidate)
    assert (row["account"], row["invited_account"], row["entrusted"]) == (None, "ana", [])
    await apply(db, TOPIC, envelope(c.CandidateAccountConfirmed(candidate_id=str(candidate), account="ana"), candidate))
    for organisation in ("centre-2", "centre-3", "centre-2"):  # the same one twice: kept once
        await apply(db, TOPIC, envelope(c.CandidateEntrusted(candidate_id=str(candidate), organisation_id=organisation,
                                                             by="person"), candidate))
    row = await db.fetchrow("SELECT account, invited_account, entrusted FROM candidates WHERE id = $1", candidate)
    assert (row["account"], row["invited_account"], row["entrusted"]) == ("ana", None, ["centre-2", "centre-3"])


async def test_an_opened_candidacy_has_the_status_its_event_carries_and_every_block_pending(db):
    candidacy, candidate = uuid.uuid4(), uuid.uuid4()
    await apply(db, TOPIC, envelope(opened(candidacy, candidate), candidacy))
    row = await db.fetchrow("SELECT * FROM candidacies WHERE id = $1", candidacy)
    assert row["status"] == "OPEN" and json.loads(row["blocks"]) == {"B1": "PENDING", "B2": "PENDING"}
    assert (row["route"], row["experience_months"], row["candidate_id"]) == ("VAE", 14, candidate)


async def test_each_step_leaves_the_candidacy_in_the_status_the_event_carries(db):
    candidacy = uuid.uuid4()
    await apply(db, TOPIC, envelope(opened(candidacy, uuid.uuid4()), candidacy))
    steps = [
        (c.CandidacyPositioned(candidacy_id=str(candidacy), status="POSITIONED", blocks={"B1": "HELD", "B2": "TO_ACQUIRE"}),
         "POSITIONED"),
        (c.AdmissibilityFiled(candidacy_id=str(candidacy), status="ADMISSIBILITY_FILED"), "ADMISSIBILITY_FILED"),
        (c.AdmissibilityDecided(candidacy_id=str(candidacy), status="ADMISSIBLE", admissible=True, reason="ok"),
         "ADMISSIBLE"),
        (c.ValidationFileSubmitted(candidacy_id=str(candidacy), status="VALIDATION_FILE_SUBMITTED"),
         "VALIDATION_FILE_SUBMITTED"),
        (c.CandidacyClosed(candidacy_id=str(candidacy), status="CLOSED", reason="done"), "CLOSED"),
    ]
    for fact, expected in steps:
        await apply(db, TOPIC, envelope(fact, candidacy))
        assert await status_of(db, candidacy) == expected
    row = await db.fetchrow("SELECT blocks, admissibility FROM candidacies WHERE id = $1", candidacy)
    assert json.loads(row["blocks"]) == {"B1": "HELD", "B2": "TO_ACQUIRE"}
    assert json.loads(row["admissibility"]) == {"status": "ADMISSIBLE", "reason": "ok"}


async def test_a_version_1_step_from_an_old_topic_is_read_with_the_status_that_step_always_led_to(db):
    candidacy = uuid.uuid4()
    v1 = opened(candidacy, uuid.uuid4()).model_dump(mode="json")
    del v1["status"]
    await apply(db, TOPIC, envelope(c.CandidacyOpened.model_construct(), candidacy, version=1, payload=v1))
    assert await status_of(db, candidacy) == "OPEN"
    refused = {"candidacy_id": str(candidacy), "admissible": False, "reason": "not enough experience"}
    await apply(db, TOPIC, envelope(c.AdmissibilityDecided.model_construct(), candidacy, version=1, payload=refused))
    assert await status_of(db, candidacy) == "INADMISSIBLE"


async def test_a_funding_decision_changes_its_own_request_only(db):
    candidacy = uuid.uuid4()
    await apply(db, TOPIC, envelope(opened(candidacy, uuid.uuid4(), route="TRAINING"), candidacy))
    for funding in ("f1", "f2"):
        await apply(db, TOPIC, envelope(c.FundingRequested(candidacy_id=str(candidacy), funding_id=funding,
                                                           funder="OPCO", funder_id=None, amount="1200.00"), candidacy))
    await apply(db, TOPIC, envelope(c.FundingDecided(candidacy_id=str(candidacy), funding_id="f2", granted=True,
                                                     granted_amount="1000.00", reason=None), candidacy))
    fundings = json.loads(await db.fetchval("SELECT fundings FROM candidacies WHERE id = $1", candidacy))
    assert fundings["f1"]["status"] == "REQUESTED"
    assert (fundings["f2"]["status"], fundings["f2"]["granted_amount"]) == ("GRANTED", "1000.00")


async def test_an_erased_candidate_is_marked_erased_and_kept_for_the_history(db):
    candidate = uuid.uuid4()
    await apply(db, TOPIC, envelope(c.CandidateRegistered(candidate_id=str(candidate), personal="pd1.x",
                                                          status="JOB_SEEKER", employer_id=None), candidate))
    await apply(db, TOPIC, envelope(c.CandidateErased(candidate_id=str(candidate)), candidate))
    assert await db.fetchval("SELECT erased_at IS NOT NULL FROM candidates WHERE id = $1", candidate)
