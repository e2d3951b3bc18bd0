"""Candidacy rules on the library's in-memory event store: each refusal is a typed error that writes
nothing; eligibility is decided on the catalog's facts of the day."""

import uuid
from datetime import date

import pytest

from shared.context import Actor, CommandContext
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import (
    AttachingFacts,
    ReadingFacts,
    CandidacyAlreadyOpen,
    CatalogStepFacts,
    CertificationFacts,
    RegistrationFacts,
    OpeningFacts,
    PositionFacts,
    StepFacts,
    HeldBlock,
    NotEligible,
    TransitionRefused,
    experience_months,
)
from shared.documents import DocumentMissing, Stored, UnknownDocument
from shared.errors import Conflict, Forbidden, InvalidInput
from tests.unit.as_client import AsClient

ACTOR = Actor(user_id="u1", organisation_id="platform", role="evaluator")  # the test caller's organisation
TODAY = date(2026, 11, 23)
_keys = iter(range(10**6))
EVALUATOR = "org-evaluator"
SETTINGS = {"vae_min_experience_months": 12, "block_validity_months": None, "jury_quorum": 2, "jury_rule": "PARITAIRE"}


OWNERS = frozenset({"UIMM"})
SEALED = "pd1.c2VhbGVk"  # the personal fields, as the service seals them (shared/personal.py)  # the branches owning the certification


def ctx() -> CommandContext:
    return CommandContext.new(ACTOR, f"key-{next(_keys)}")


def facts(**overrides) -> CertificationFacts:
    fields = dict(
        code="RNCP40344", registry="RNCP", end_date=date(2028, 3, 28), routes=["CA", "CQ", "VAE"], current_version=1,
        versions={1: {"blocks": [{"code": f"RNCP40344BC0{n}"} for n in range(1, 5)], "settings": SETTINGS}},
        accredited_evaluators={EVALUATOR},
        equivalences=[{"blocks": ["RNCP40344BC01"], "target": "RNCP37507", "target_blocks": ["RNCP37507BC01"],
                       "source": "FRANCE_COMPETENCES"}],
    )
    return CertificationFacts(**{**fields, **overrides})


TWO_YEARS = [{"start": date(2022, 1, 1), "end": date(2023, 12, 31), "activity": "Auxiliaire", "kind": "PAID"}]


@pytest.fixture
def app():
    return AsClient(CandidacyApplication())


def candidate(app) -> str:
    return app.register_candidate({"given_name": "Camille", "family_name": "Martin", "birth_date": None,
                                   "email": "c@example.org", "phone": None, "status": "EMPLOYEE",
                                   "employer_id": None}, RegistrationFacts(uuid.uuid4(), SEALED), ctx()).result["id"]


def opening(candidate_id, route="VAE", **overrides) -> dict:
    return {"candidate_id": candidate_id, "certification": "RNCP40344", "route": route, "evaluator_id": EVALUATOR,
            "trainer_id": None, "employer_id": None, "experience": TWO_YEARS if route == "VAE" else [],
            "blocks": [], **overrides}


STEP = StepFacts(OWNERS, TODAY)


def on_catalog(**overrides) -> CatalogStepFacts:
    return CatalogStepFacts(OWNERS, TODAY, facts(**overrides))


def opened(app, command: dict, certification: CertificationFacts | None = None, context=None):
    """`open_candidacy` on the catalog's facts (those of `facts()` by default) and the person's records."""
    candidate = app.candidate(command["candidate_id"])
    seen = tuple(app.candidate_records(candidate, {}, {}))
    return app.open_candidacy(command, OpeningFacts(certification or facts(), OWNERS, seen, TODAY, candidate),
                              context or ctx())


def open_candidacy(app, **overrides) -> str:
    return opened(app, opening(candidate(app), **overrides)).result["id"]


def events(app) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app, error, method, *args):
    """`method(*args)` refused with `error`, having written nothing."""
    written = events(app)
    with pytest.raises(error) as refusal:
        method(*args)
    assert events(app) == written, "a refused command wrote events"
    return refusal.value


def rules_failed(refusal) -> list[str]:
    return [f["rule"] for f in refusal.details["failures"]]


def test_a_vae_candidacy_opens_under_the_version_in_force(app):
    candidacy = app.candidacy(open_candidacy(app))
    assert candidacy.version == 1 and candidacy.status == "OPEN"
    assert list(candidacy.blocks) == [f"RNCP40344BC0{n}" for n in range(1, 5)]


def test_an_unaccredited_evaluator_makes_the_candidacy_not_eligible(app):
    refusal = refused(app, NotEligible, opened, app, opening(candidate(app), evaluator_id="someone"), facts())
    assert rules_failed(refusal) == ["EvaluatorNotAccredited"]


def test_an_expired_certification_is_not_eligible_and_every_reason_is_given(app):
    refusal = refused(app, NotEligible, opened, app, opening(candidate(app), experience=[]),
                      facts(end_date=date(2025, 1, 1), routes=["FC"]))
    assert rules_failed(refusal) == ["CertificationExpired", "VaeRouteNotOpen", "NotEnoughExperience"]


def test_no_vae_for_a_certification_outside_the_rncp(app):
    refusal = refused(app, NotEligible, opened, app, opening(candidate(app)), facts(registry="RS"))
    assert rules_failed(refusal) == ["VaeNeedsRncpRegistration"]


def test_vae_needs_the_minimum_experience_of_the_version(app):
    six_months = [{"start": date(2025, 1, 1), "end": date(2025, 6, 30), "activity": "Stage", "kind": "INTERNSHIP"}]
    refusal = refused(app, NotEligible, opened, app, opening(candidate(app), experience=six_months), facts())
    assert refusal.details["failures"] == [{"rule": "NotEnoughExperience", "needed_months": 12, "declared_months": 6}]
    no_minimum = facts(versions={1: {"blocks": [{"code": "B1"}], "settings": {**SETTINGS, "vae_min_experience_months": 0}}})
    opened(app, opening(candidate(app), experience=six_months), no_minimum)


def test_overlapping_experience_periods_count_once():
    year = [{"start": date(2022, 1, 1), "end": date(2022, 12, 31)}]
    assert experience_months(year) == 12
    overlapping = [*year, {"start": date(2022, 6, 1), "end": date(2023, 5, 31)}]
    assert experience_months(overlapping) == 17  # January 2022 to May 2023, not 24: counted once


def test_one_open_candidacy_per_candidate_and_certification(app):
    person = candidate(app)
    first = opened(app, opening(person)).result["id"]
    refusal = refused(app, CandidacyAlreadyOpen, opened, app, opening(person, route="TRAINING"), facts())
    assert first not in str(refusal.details), "a refusal names only what the caller may read"


def test_a_withdrawn_candidacy_frees_the_certification_for_a_new_one(app):
    person = candidate(app)
    first = opened(app, opening(person)).result["id"]
    app.withdraw({"candidacy_id": first, "reason": "moved abroad"}, STEP, ctx())
    opened(app, opening(person))
    refused(app, TransitionRefused, app.withdraw, {"candidacy_id": first, "reason": "again"}, STEP, ctx())


def test_only_vae_may_target_some_blocks(app):
    refused(app, InvalidInput, opened, app, opening(candidate(app), route="TRAINING", blocks=["RNCP40344BC01"]), facts())
    candidacy = opened(app, opening(candidate(app), blocks=["RNCP40344BC02"]))
    assert list(app.candidacy(candidacy.result["id"]).blocks) == ["RNCP40344BC02"]


def test_positioning_recognises_held_and_equivalent_blocks_still_valid(app):
    candidacy_id = open_candidacy(app)
    held = [HeldBlock("RNCP40344", "RNCP40344BC02", None),
            HeldBlock("RNCP40344", "RNCP40344BC03", date(2025, 1, 1)),  # validity over
            HeldBlock("RNCP37507", "RNCP37507BC01", date(2030, 1, 1))]  # equivalent to BC01
    outcome = app.position({"candidacy_id": candidacy_id}, PositionFacts(OWNERS, TODAY, facts(), tuple(held)), ctx())
    assert outcome.result["blocks"] == {"RNCP40344BC01": "RECOGNISED", "RNCP40344BC02": "HELD",
                                        "RNCP40344BC03": "TO_ACQUIRE", "RNCP40344BC04": "TO_ACQUIRE"}
    assert app.candidacy(candidacy_id).status == "POSITIONED"


def test_a_path_trains_only_for_blocks_to_acquire(app):
    candidacy_id = open_candidacy(app)
    app.position({"candidacy_id": candidacy_id},
                 PositionFacts(OWNERS, TODAY, facts(), (HeldBlock("RNCP40344", "RNCP40344BC02", None),)), ctx())
    refused(app, InvalidInput, app.set_path,
            {"candidacy_id": candidacy_id, "blocks": [{"block": "RNCP40344BC02", "hours": 35, "modules": []}]}, STEP, ctx())
    app.set_path({"candidacy_id": candidacy_id, "blocks": [{"block": "RNCP40344BC01", "hours": 35, "modules": ["M1"]}]},
                 STEP, ctx())


def test_funding_is_requested_then_decided_once_and_a_refusal_says_why(app):
    candidacy_id = open_candidacy(app)
    funding_id = app.request_funding({"candidacy_id": candidacy_id, "funder": "OPCO", "funder_id": None,
                                      "amount": "1500.00"}, STEP, ctx()).result["funding_id"]
    refused(app, InvalidInput, app.decide_funding, {"candidacy_id": candidacy_id, "funding_id": funding_id,
                                                   "granted": False, "granted_amount": None, "reason": None},
            STEP, ctx())
    app.decide_funding({"candidacy_id": candidacy_id, "funding_id": funding_id, "granted": True,
                        "granted_amount": None, "reason": None}, STEP, ctx())
    assert app.candidacy(candidacy_id).fundings[funding_id]["granted_amount"] == "1500.00"
    refused(app, TransitionRefused, app.decide_funding, {"candidacy_id": candidacy_id, "funding_id": funding_id,
                                                        "granted": True, "granted_amount": None, "reason": None},
            STEP, ctx())


def attach(app, candidacy_id: str, kind: str, supersedes: str | None = None, command: str = "attach_vae_paper"):
    """A paper attached, its bytes stored (as services/candidacy/documents.py does before the decision)."""
    document_id = str(uuid.uuid4())
    stored = Stored(f"candidacies/{candidacy_id}/{uuid.uuid4()}", 1234, "application/pdf", "ab" * 32, "cd" * 32)
    body = {"candidacy_id": candidacy_id, "filename": "livret.pdf", "sha256": "ab" * 32, "content": "JVBERi0=",
            "supersedes": supersedes} | ({"kind": kind} if command == "attach_vae_paper" else {})
    getattr(app, command)(body, AttachingFacts(OWNERS, TODAY, document_id, stored, SEALED), ctx())
    return document_id


def test_vae_admissibility_then_validation_file_in_that_order(app):
    candidacy_id = open_candidacy(app)
    on = {"candidacy_id": candidacy_id}
    refused(app, TransitionRefused, app.submit_validation_file, on, STEP, ctx())
    refused(app, TransitionRefused, app.decide_admissibility, {**on, "admissible": True, "reason": "ok"}, on_catalog(), ctx())
    attach(app, candidacy_id, "LIVRET_1")
    app.file_admissibility(on, STEP, ctx())
    app.decide_admissibility({**on, "admissible": True, "reason": "Livret 1 complet"}, on_catalog(), ctx())
    attach(app, candidacy_id, "LIVRET_2")
    app.submit_validation_file(on, STEP, ctx())
    assert app.candidacy(candidacy_id).status == "VALIDATION_FILE_SUBMITTED"


def test_each_step_needing_a_paper_is_refused_without_it_naming_the_paper(app):
    candidacy_id = open_candidacy(app)
    on = {"candidacy_id": candidacy_id}
    attach(app, candidacy_id, "LIVRET_1_SUPPORT")  # a supporting document is not the request itself
    refusal = refused(app, DocumentMissing, app.file_admissibility, on, STEP, ctx())
    assert refusal.details == {"step": "file-admissibility", "missing": ["LIVRET_1"]}
    attach(app, candidacy_id, "LIVRET_1")
    app.file_admissibility(on, STEP, ctx())
    app.decide_admissibility({**on, "admissible": True, "reason": "ok"}, on_catalog(), ctx())
    refusal = refused(app, DocumentMissing, app.submit_validation_file, on, STEP, ctx())
    assert refusal.details["missing"] == ["LIVRET_2"]


def test_a_new_version_of_a_paper_held_once_supersedes_the_current_one_and_both_stay(app):
    candidacy_id = open_candidacy(app)
    first = attach(app, candidacy_id, "LIVRET_1")
    second = attach(app, candidacy_id, "LIVRET_1")
    documents = app.candidacy(candidacy_id).documents
    assert documents[first]["superseded_by"] == second and documents[second]["version"] == 2
    assert app.candidacy(candidacy_id).current_documents() == [second]
    refused(app, Conflict, attach, app, candidacy_id, "LIVRET_1", first)  # only the latest is superseded
    refused(app, UnknownDocument, attach, app, candidacy_id, "LIVRET_2", second)  # of its own kind only
    supports = [attach(app, candidacy_id, "LIVRET_1_SUPPORT") for _ in range(2)]  # held many times: both current
    assert set(supports) <= set(app.candidacy(candidacy_id).current_documents())


def test_a_withdrawn_candidacy_receives_no_document(app):
    candidacy_id = open_candidacy(app)
    app.withdraw({"candidacy_id": candidacy_id, "reason": "moved"}, STEP, ctx())
    refused(app, TransitionRefused, attach, app, candidacy_id, "LIVRET_1")


def test_reading_a_document_records_who_read_it_and_unknown_ones_are_refused(app):
    candidacy_id = open_candidacy(app)
    document_id = attach(app, candidacy_id, "LIVRET_2")
    reading = ReadingFacts(OWNERS, TODAY, frozenset())
    result = app.read_document({"candidacy_id": candidacy_id, "document_id": document_id}, reading, ctx()).result
    assert result["media_type"] == "application/pdf" and result["object_key"].startswith(f"candidacies/{candidacy_id}/")
    read = [e for e in app.events.get(uuid.UUID(candidacy_id)) if type(e).__name__ == "DocumentRead"]
    assert [e.document_id for e in read] == [document_id]
    refused(app, UnknownDocument, app.read_document, {"candidacy_id": candidacy_id, "document_id": "nope"},
            reading, ctx())


def test_admissibility_is_refused_when_the_registration_has_expired_since(app):
    candidacy_id = open_candidacy(app)
    attach(app, candidacy_id, "LIVRET_1")
    app.file_admissibility({"candidacy_id": candidacy_id}, STEP, ctx())
    refusal = refused(app, NotEligible, app.decide_admissibility,
                      {"candidacy_id": candidacy_id, "admissible": True, "reason": "ok"},
                      on_catalog(end_date=date(2026, 1, 1)), ctx())
    assert rules_failed(refusal) == ["CertificationExpired"]


def test_only_a_vae_candidacy_files_for_admissibility(app):
    candidacy_id = open_candidacy(app, route="TRAINING")
    refused(app, TransitionRefused, app.file_admissibility, {"candidacy_id": candidacy_id}, STEP, ctx())


def test_a_transfer_goes_to_an_accredited_organisation_with_a_reason(app):
    candidacy_id = open_candidacy(app)
    refused(app, NotEligible, app.transfer, {"candidacy_id": candidacy_id, "evaluator_id": "other", "reason": "move"},
            on_catalog(), ctx())
    app.transfer({"candidacy_id": candidacy_id, "evaluator_id": "other", "reason": "move"},
                 on_catalog(accredited_evaluators={EVALUATOR, "other"}), ctx())
    assert app.candidacy(candidacy_id).evaluator_id == "other"


def test_a_closed_candidacy_accepts_no_further_step(app):
    candidacy_id = open_candidacy(app)
    app.close_candidacy({"candidacy_id": candidacy_id, "reason": "awarded"}, ctx())
    for step in (app.file_admissibility, app.submit_validation_file):
        refused(app, TransitionRefused, step, {"candidacy_id": candidacy_id}, STEP, ctx())


@pytest.mark.parametrize("periods, months", [
    ([("2024-01-01", "2024-06-30")], 6),
    ([("2024-01-15", "2024-07-14")], 6),
    ([("2024-01-15", "2024-07-13")], 5),
    ([("2024-01-01", "2024-03-31"), ("2024-02-01", "2024-06-30")], 6),  # overlaps count once
    ([("2024-01-01", "2024-03-31"), ("2024-04-01", "2024-06-30")], 6),  # adjoining periods join
    ([("2023-01-01", "2023-12-31"), ("2023-06-01", "2023-06-30")], 12),
    ([("2024-02-01", "2024-02-29")], 1),
])
def test_experience_counts_in_calendar_months_over_the_union_of_the_periods(periods, months):
    from services.candidacy.domain import experience_months

    assert experience_months([{"start": date.fromisoformat(a), "end": date.fromisoformat(b)}
                              for a, b in periods]) == months


def test_an_organisation_opens_a_candidacy_only_for_a_person_it_registered(app):
    """The person rule: a centre accredited for the certification gains no right over a person registered
    elsewhere by opening a candidacy for them."""
    person = candidate(app)  # registered by the test caller's organisation (ACTOR)
    other_centre = CommandContext.new(Actor(user_id="u2", organisation_id=EVALUATOR, role="evaluator"), "k-other")
    written = events(app)
    with pytest.raises(Forbidden) as refusal:
        opened(app, opening(person), context=other_centre)
    assert events(app) == written, "a refused opening wrote events"
    assert "registered" in str(refusal.value.details["missing"])
    assert opened(app, opening(person)).result["id"]


def test_a_date_at_the_edge_of_the_calendar_is_invalid_input_not_an_overflow():
    """0001-01-01 to 9999-12-31 made the month count overflow (a 500): every day a command names is bounded."""
    from pydantic import ValidationError

    from shared.commands.candidacy import DeclareExperience

    with pytest.raises(ValidationError) as refusal:
        DeclareExperience.model_validate({"candidacy_id": "c", "periods": [
            {"start": "0001-01-01", "end": "9999-12-31", "activity": "Soudeur"}]})
    assert {e["loc"] for e in refusal.value.errors()} == {("periods", 0, "start"), ("periods", 0, "end")}
    assert experience_months([{"start": date(1900, 1, 1), "end": date(2199, 12, 31)}]) == 300 * 12


def test_a_request_unanswered_past_its_delay_is_deemed_admissible_once_and_only_while_it_waits(app):
    candidacy_id = open_candidacy(app)
    on = {"candidacy_id": candidacy_id}
    deemed = {**on, "deadline_id": str(uuid.uuid4()), "due_on": date(2027, 1, 22)}
    refused(app, TransitionRefused, app.deem_admissible, deemed, ctx())  # nothing filed: nothing to deem
    attach(app, candidacy_id, "LIVRET_1")
    app.file_admissibility(on, STEP, ctx())
    app.deem_admissible(deemed, ctx())
    candidacy = app.candidacy(candidacy_id)
    assert candidacy.status == "ADMISSIBLE"
    decided = [e for e in app.events.get(candidacy.id) if type(e).__name__ == "AdmissibilityDecided"]
    assert (decided[-1].deemed, decided[-1].admissible) == (deemed["deadline_id"], True)
    assert "22/01/2027" in decided[-1].reason
    refused(app, TransitionRefused, app.deem_admissible, deemed, ctx())  # answered now: a second miss changes nothing
    refused(app, TransitionRefused, app.decide_admissibility, {**on, "admissible": False, "reason": "trop tard"},
            on_catalog(), ctx())
