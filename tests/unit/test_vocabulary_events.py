"""The domains record the vocabulary's enums (shared/vocabulary.py), and a stored event is byte for byte the one
recorded with the plain words: a StrEnum is a str, so events stored before and after read and compare alike."""

import enum
from datetime import date

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex

from services.candidacy.domain import Candidacy, CertificationFacts
from services.catalog.domain import Certification
from shared.eventstore import DateAsISO
from shared.vocabulary import BlockState, JuryRule


def plain(value):
    """The value with every enum replaced by its word, as events were recorded before the enums."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def stored(domain_event) -> bytes:
    """Its state as the services' event store writes it (shared/eventstore.py: the library's and our transcodings)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder).to_stored_event(domain_event).state


def with_words(domain_event):
    """The same event, its attributes made of plain words."""
    words = {k: plain(v) for k, v in domain_event.__dict__.items()}
    made = object.__new__(type(domain_event))
    object.__setattr__(made, "__dict__", words)
    return made


def test_a_positioning_with_block_states_is_stored_as_the_words_were():
    facts = CertificationFacts(code="RNCP40344", registry="RNCP", end_date=None, routes=["VAE"], current_version=1,
                               versions={1: {"blocks": [{"code": "BC01"}, {"code": "BC02"}], "settings": {}}},
                               accredited_evaluators={"org"})
    candidacy = Candidacy(candidate_id="c1", certification="RNCP40344", version=1, route="TRAINING",
                          blocks=["BC01", "BC02"], evaluator_id="org", trainer_id=None, employer_id=None,
                          experience=[])
    candidacy.position(facts, [], date(2026, 6, 30))
    positioned = candidacy.collect_events()[-1]
    assert positioned.blocks == {"BC01": BlockState.TO_ACQUIRE, "BC02": BlockState.TO_ACQUIRE}
    assert isinstance(positioned.blocks["BC01"], BlockState)
    assert stored(positioned) == stored(with_words(positioned))
    assert b'"blocks":{"BC01":"TO_ACQUIRE","BC02":"TO_ACQUIRE"}' in stored(positioned)


def test_a_version_published_with_the_jury_rule_is_stored_as_the_words_were():
    certification = Certification.create(code="CQPM0001", kind="CQPM", title="Usineur", owners=["UIMM"])
    certification.publish_version([{"code": "BC01", "title": "Bloc"}], {}, date(2026, 6, 30))
    published = certification.collect_events()[-1]
    assert isinstance(published.settings["jury_rule"], JuryRule)
    assert stored(published) == stored(with_words(published))
    assert b'"jury_rule":"PARITAIRE"' in stored(published)
