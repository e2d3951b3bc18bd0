"""How an organisation or a login comes to have a right over a person: it registered them, the person
(signed in) confirmed their login or entrusted their record to it, or the organisation holding their
candidacy, itself with that right, transferred it. Never by acting on the person."""

import uuid

import pytest

from shared.context import Actor, CommandContext, current_caller
from shared.errors import Forbidden, NotFound
from shared.identity import Caller
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import CatalogStepFacts, EntrustingFacts, RegistrationFacts, UnknownOrganisation
from tests.unit.as_client import AsClient
from tests.unit.test_candidacy import EVALUATOR, OWNERS, SEALED, TODAY, facts, opened, opening

CENTRE, OTHER = EVALUATOR, "org-other-centre"
_keys = iter(range(10**6))
REFUSED = (Forbidden, NotFound)  # NotFound where the caller may not even read the person


def acting(user: str, organisation: str, role: str) -> CommandContext:
    current_caller.set(Caller(user_id=user, organisation_id=organisation, branches=(), roles=frozenset({role})))
    return CommandContext.new(Actor(user_id=user, organisation_id=organisation, role=role), f"k-{next(_keys)}")


@pytest.fixture
def app():
    return AsClient(CandidacyApplication())


def registered(app, account: str | None = "ana") -> str:
    return app.register_candidate({"given_name": "Ana", "family_name": "Lopes", "birth_date": None,
                                   "email": "a@example.org", "phone": None, "status": "EMPLOYEE", "employer_id": None,
                                   "account": account}, RegistrationFacts(uuid.uuid4(), SEALED),
                                  acting("e1", CENTRE, "evaluator")).result["id"]


def written(app) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_login_named_at_registration_is_only_invited_until_the_person_signed_in_as_it_confirms(app):
    person = registered(app)
    assert app.candidate(person).account is None and app.candidate(person).invited_account == "ana"
    before = written(app)
    with pytest.raises(REFUSED):  # another login cannot take the record over
        app.confirm_account({"candidate_id": person}, acting("bob", "-", "candidate"))
    assert written(app) == before
    app.confirm_account({"candidate_id": person}, acting("ana", "-", "candidate"))
    assert app.candidate(person).account == "ana" and app.candidate(person).invited_account is None


def test_an_organisation_cannot_confirm_a_login_for_the_person(app):
    person = registered(app)
    with pytest.raises(REFUSED):
        app.confirm_account({"candidate_id": person}, acting("ana", CENTRE, "evaluator"))
    assert app.candidate(person).account is None


def test_the_person_entrusts_their_record_to_a_centre_which_may_then_open_their_candidacy(app):
    person = registered(app)
    with pytest.raises(REFUSED):
        opened(app, opening(person, evaluator_id=OTHER), facts(accredited_evaluators={OTHER}),
               acting("o1", OTHER, "evaluator"))
    with pytest.raises(REFUSED):  # before confirming their login, the person has no right over the record
        app.entrust_candidate({"candidate_id": person, "organisation_id": OTHER}, EntrustingFacts(True),
                              acting("ana", "-", "candidate"))
    app.confirm_account({"candidate_id": person}, acting("ana", "-", "candidate"))
    with pytest.raises(UnknownOrganisation):
        app.entrust_candidate({"candidate_id": person, "organisation_id": "nobody"}, EntrustingFacts(False),
                              acting("ana", "-", "candidate"))
    app.entrust_candidate({"candidate_id": person, "organisation_id": OTHER}, EntrustingFacts(True),
                          acting("ana", "-", "candidate"))
    opened(app, opening(person, evaluator_id=OTHER), facts(accredited_evaluators={OTHER}),
           acting("o1", OTHER, "evaluator"))


def test_an_organisation_cannot_entrust_a_person_to_another(app):
    person = registered(app)
    with pytest.raises(REFUSED):
        app.entrust_candidate({"candidate_id": person, "organisation_id": OTHER}, EntrustingFacts(True),
                              acting("e1", CENTRE, "evaluator"))
    assert app.candidate(person).organisations() == {CENTRE}


def test_the_centre_holding_the_candidacy_hands_the_person_on_with_it_and_the_next_centre_may_hand_them_on(app):
    person = registered(app)
    accredited = facts(accredited_evaluators={CENTRE, OTHER, "org-third"})
    candidacy = opened(app, opening(person), accredited, acting("e1", CENTRE, "evaluator")).result["id"]
    app.transfer({"candidacy_id": candidacy, "evaluator_id": OTHER, "reason": "move"},
                 CatalogStepFacts(OWNERS, TODAY, accredited),
                 acting("e1", CENTRE, "evaluator"))
    assert app.candidate(person).organisations() == {CENTRE, OTHER}
    app.transfer({"candidacy_id": candidacy, "evaluator_id": "org-third", "reason": "move"},
                 CatalogStepFacts(OWNERS, TODAY, accredited),
                 acting("o1", OTHER, "evaluator"))
    assert app.candidate(person).organisations() == {CENTRE, OTHER, "org-third"}


def test_a_branch_moving_a_candidacy_gives_the_new_centre_the_candidacy_not_the_person(app):
    person = registered(app)
    accredited = facts(accredited_evaluators={CENTRE, OTHER, "org-third"})
    candidacy = opened(app, opening(person), accredited, acting("e1", CENTRE, "evaluator")).result["id"]
    current_caller.set(Caller(user_id="b1", organisation_id="UIMM-ORG", branches=("UIMM",),
                              roles=frozenset({"branch-admin"})))
    app.transfer({"candidacy_id": candidacy, "evaluator_id": OTHER, "reason": "move"},
                 CatalogStepFacts(OWNERS, TODAY, accredited),
                 CommandContext.new(Actor(user_id="b1", organisation_id="UIMM-ORG", role="branch-admin"), "k-branch"))
    assert app.candidate(person).organisations() == {CENTRE}
    # Nor can the new centre, holding the candidacy without a right over the person, hand them on.
    app.transfer({"candidacy_id": candidacy, "evaluator_id": "org-third", "reason": "move"},
                 CatalogStepFacts(OWNERS, TODAY, accredited),
                 acting("o1", OTHER, "evaluator"))
    assert app.candidate(person).organisations() == {CENTRE}
