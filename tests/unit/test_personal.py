"""Personal data sealed per person (shared/personal.py), and the candidate's rectification and erasure rules."""

import base64
import os
import uuid
from datetime import date

import pytest

from shared.context import Actor, CommandContext, current_caller
from shared.errors import InvalidInput
from shared.identity import Caller
from shared.personal import MasterKey, new_key, seal, unseal
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import (
    CandidacyStillOpen, CandidateErased, CorrectionFacts, ErasureFacts, HolderRecordsKept, RegistrationFacts,
    UnknownCandidate,
)
from tests.unit.as_client import AsClient

MASTER = base64.b64encode(os.urandom(32)).decode()
PERSON = str(uuid.uuid4())
FIELDS = {"given_name": "Zoé", "family_name": "Lefèvre", "email": "zoe@example.org", "birth_date": "1990-04-02"}


def test_sealed_data_reads_back_only_with_the_persons_key():
    key = new_key()
    sealed = seal(key, PERSON, FIELDS)
    assert "Lef" not in sealed and "zoe" not in sealed and "1990" not in sealed
    assert unseal(key, PERSON, sealed) == FIELDS
    with pytest.raises(ValueError):
        unseal(new_key(), PERSON, sealed)


def test_sealed_data_is_bound_to_its_person():
    key = new_key()
    with pytest.raises(ValueError):
        unseal(key, str(uuid.uuid4()), seal(key, PERSON, FIELDS))


def test_the_same_data_sealed_twice_differs():
    key = new_key()
    assert seal(key, PERSON, FIELDS) != seal(key, PERSON, FIELDS)


def test_a_persons_key_is_wrapped_under_the_master_key_and_bound_to_the_person():
    master, key = MasterKey(MASTER), new_key()
    wrapped = master.wrap(PERSON, key)
    assert key not in wrapped and master.unwrap(PERSON, wrapped) == key
    with pytest.raises(Exception):
        MasterKey(base64.b64encode(os.urandom(32)).decode()).unwrap(PERSON, wrapped)
    with pytest.raises(Exception):
        master.unwrap(str(uuid.uuid4()), wrapped)


def test_a_master_key_of_a_wrong_size_is_refused():
    with pytest.raises(ValueError):
        MasterKey(base64.b64encode(b"short").decode())


def test_the_blind_index_finds_words_and_prefixes_whatever_the_case_and_accents():
    master = MasterKey(MASTER)
    index = master.index_tokens(["Zoé", "Lefèvre-Martin"], ["zoe@example.org", "1990-04-02"])
    for query in ("zoe", "ZOÉ lefevre", "lef", "martin", "lefèvre-martin", "zoe@example.org", "1990-04-02"):
        assert set(master.query_tokens(query)) <= index, query
    for query in ("zo", "dupont", "example"):
        assert not set(master.query_tokens(query)) <= index, query


def test_the_blind_index_depends_on_the_master_key():
    assert MasterKey(MASTER).token("zoe") != MasterKey(base64.b64encode(os.urandom(32)).decode()).token("zoe")
    assert "zoe" not in MasterKey(MASTER).token("zoe")


# --- rectification and erasure, on the in-memory event store ----------------------------------------

ADMIN = Caller(user_id="admin", organisation_id="UIMM", branches=("UIMM",), roles=frozenset({"branch-admin"}))
_keys = iter(range(10**6))


def ctx() -> CommandContext:
    return CommandContext.new(Actor(user_id="admin", organisation_id="UIMM", role="branch-admin"), f"k{next(_keys)}")


@pytest.fixture
def app():
    current_caller.set(ADMIN)
    return AsClient(CandidacyApplication())


def registered(app) -> tuple[str, list]:
    person = app.register_candidate({"given_name": "A", "family_name": "B", "email": "a@b.org", "status": "EMPLOYEE"},
                                    RegistrationFacts(uuid.uuid4(), "pd1.first"), ctx()).result["id"]
    candidate = app.candidate(person)
    return person, app.candidate_records(candidate, {}, {})


def test_a_correction_records_the_new_sealed_data_and_the_fields_changed(app):
    person, records = registered(app)
    app.correct_candidate({"candidate_id": person, "family_name": "C"}, CorrectionFacts("pd1.second", tuple(["family_name"]), tuple(records), app.candidate(person)), ctx())
    assert app.candidate(person).personal == "pd1.second"
    with pytest.raises(InvalidInput):
        app.correct_candidate({"candidate_id": person, "family_name": "C"}, CorrectionFacts("pd1.third", tuple([]), tuple(records), app.candidate(person)), ctx())


def test_an_erased_candidate_keeps_no_personal_data_and_cannot_be_corrected(app):
    person, records = registered(app)
    app.erase_candidate({"candidate_id": person}, ErasureFacts(tuple([]), tuple(records), app.candidate(person)), ctx())
    candidate = app.candidate(person)
    assert candidate.erased and candidate.personal is None
    with pytest.raises(CandidateErased):
        app.correct_candidate({"candidate_id": person, "family_name": "C"}, CorrectionFacts("pd1.x", tuple(["family_name"]), tuple(records), app.candidate(person)), ctx())
    with pytest.raises(CandidateErased):
        app.erase_candidate({"candidate_id": person}, ErasureFacts(tuple([]), tuple(records), app.candidate(person)), ctx())


def test_the_holder_of_a_certificate_in_force_is_not_erased_for_the_certifier_must_keep_the_record(app):
    person, records = registered(app)
    with pytest.raises(HolderRecordsKept) as refused:
        app.erase_candidate({"candidate_id": person}, ErasureFacts(tuple(["RNCP1-ABC"]), tuple(records), app.candidate(person)), ctx())
    assert refused.value.details["certificates"] == ["RNCP1-ABC"]
    assert not app.candidate(person).erased


def test_a_candidate_with_a_candidacy_under_way_is_not_erased(app):
    from tests.unit.test_candidacy import OWNERS, facts, opened, opening

    person, _ = registered(app)
    opened(app, opening(person, route="TRAINING"), facts(), ctx())
    records = app.candidate_records(app.candidate(person), {"RNCP40344": OWNERS}, {})
    with pytest.raises(CandidacyStillOpen):
        app.erase_candidate({"candidate_id": person}, ErasureFacts(tuple([]), tuple(records), app.candidate(person)), ctx())


def test_only_a_caller_reaching_the_person_corrects_or_erases_them(app):
    person, records = registered(app)
    current_caller.set(Caller(user_id="x", organisation_id="OTHER", branches=("LEEM",),
                              roles=frozenset({"branch-admin"})))
    with pytest.raises(UnknownCandidate):  # a person they may not even read: as if there were none
        app.erase_candidate({"candidate_id": person}, ErasureFacts(tuple([]), tuple(records), app.candidate(person)), ctx())
    current_caller.set(Caller(user_id="x", organisation_id="OTHER", roles=frozenset({"candidate"})))
    with pytest.raises(UnknownCandidate):
        app.correct_candidate({"candidate_id": person, "family_name": "C"}, CorrectionFacts("pd1.x", tuple(["family_name"]), tuple(records), app.candidate(person)), ctx())
    assert not app.candidate(person).erased


def test_a_commands_fingerprint_is_keyed_where_people_are_so_no_one_confirms_a_guess_without_the_key():
    from shared.eventstore import fingerprint

    body = {"given_name": "Zoé", "family_name": "Lefèvre"}
    assert fingerprint("register-candidate", body, b"k") == fingerprint("register-candidate", body, b"k")
    assert fingerprint("register-candidate", body, b"k") != fingerprint("register-candidate", body)
    assert fingerprint("register-candidate", body, b"k") != fingerprint("register-candidate", body, b"other")


def test_a_person_changed_since_their_facts_were_read_is_not_decided_on_stale_data(app):
    """The decision works on the person as its facts' reader read them (loaded once): changed since, saving
    conflicts and nothing is written; sent again, the command is decided on fresh facts."""
    from eventsourcing.persistence import IntegrityError

    person, records = registered(app)
    stale = app.candidate(person)
    app.correct_candidate({"candidate_id": person, "family_name": "C"},
                          CorrectionFacts("pd1.second", ("family_name",), tuple(records), app.candidate(person)), ctx())
    written = app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        app.correct_candidate({"candidate_id": person, "family_name": "D"},
                              CorrectionFacts("pd1.third", ("family_name",), tuple(records), stale), ctx())
    assert app.recorder.max_notification_id() == written and app.candidate(person).personal == "pd1.second"
    assert stale.version == 1  # the facts' own copy is untouched: a decision run again starts from it afresh
