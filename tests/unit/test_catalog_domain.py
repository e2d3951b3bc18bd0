import contextvars
from datetime import date

import pytest

from shared.context import Actor, CommandContext, current_command
from shared.errors import InvalidInput
from shared.contracts.catalog import BranchDeadlines
from services.catalog.domain import Branch, Certification, CqpiNeedsSeveralBranches, UnknownCertification

CONTEXT = CommandContext(actor=Actor(user_id="u1", organisation_id="UIMM", role="branch-admin"),
                         correlation_id="c1", causation_id="k1")
BLOCKS = [{"code": "RNCP34174BC01", "title": "Conduite"}, {"code": "RNCP34174BC02", "title": "Maintenance"}]


def create(**overrides) -> Certification:
    fields = {"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "owners": ["UIMM"]}
    return Certification.create(**{**fields, **overrides})


def test_a_certification_is_identified_by_its_code():
    assert create().id == Certification.create_id("RNCP34174")
    assert create(code="RNCP34175").id != create().id


def test_every_event_records_who_did_it_from_the_command_context_not_from_the_domain():
    token = current_command.set(CONTEXT)
    try:
        certification = create()
        certification.publish_version(BLOCKS, {}, date(2024, 1, 1))
    finally:
        current_command.reset(token)
    for event in certification.collect_events():
        assert event.context["actor"]["organisation_id"] == "UIMM"
        assert event.timestamp is not None


def test_an_event_outside_a_command_is_refused_for_want_of_an_actor():
    with pytest.raises(RuntimeError, match="outside a command"):
        contextvars.Context().run(create)  # a context where no command set who acts


@pytest.mark.parametrize("kind", ["BTS", "cqp", ""])
def test_refuses_a_kind_other_than_cqp_cqpm_cqpi(kind):
    with pytest.raises(InvalidInput, match="one of CQP, CQPM, CQPI"):
        create(kind=kind)


@pytest.mark.parametrize("code", ["rncp1", "X", "RNCP 123", "RNCP/1"])
def test_refuses_a_malformed_code(code):
    with pytest.raises(InvalidInput):
        create(code=code)


def test_a_cqpi_is_owned_by_at_least_two_branches():
    with pytest.raises(CqpiNeedsSeveralBranches):
        create(kind="CQPI", owners=["UIMM"])
    assert create(kind="CQPI", owners=["UIMM", "LEEM"]).owners == ["UIMM", "LEEM"]


def test_refuses_a_block_code_given_twice():
    with pytest.raises(InvalidInput) as refusal:
        create().publish_version([{"code": "B1", "title": "a"}, {"code": "B1", "title": "b"}], {}, date.today())
    assert refusal.value.details == {"duplicates": ["B1"]}


def test_a_version_takes_default_settings_one_year_of_vae_experience_and_blocks_for_life():
    certification = create()
    certification.publish_version(BLOCKS, {}, date(2024, 1, 1))
    settings = certification.current_version["settings"]
    assert settings["vae_min_experience_months"] == 12 and settings["block_validity_months"] is None


def test_a_later_version_leaves_the_earlier_one_as_it_was():
    certification = create()
    certification.publish_version(BLOCKS, {}, date(2024, 1, 1))
    certification.publish_version(BLOCKS[:1], {"block_validity_months": 60}, date(2025, 1, 1))
    first, second = certification.versions
    assert first["blocks"] == BLOCKS and first["settings"]["block_validity_months"] is None
    assert second["number"] == 2 and second["blocks"] == BLOCKS[:1]


def test_a_certification_whose_registration_has_ended_is_expired():
    certification = create()
    certification.record_registration({"registry": "RNCP", "end_date": date(2021, 7, 21)})
    assert certification.is_expired(date(2021, 7, 22))
    assert not certification.is_expired(date(2021, 7, 21))


def test_an_equivalence_names_a_block_of_the_targets_current_version():
    source, target = create(), create(code="RNCP40344", kind="CQP")
    source.publish_version(BLOCKS, {}, date(2024, 1, 1))
    target.publish_version([{"code": "RNCP40344BC01", "title": "Bloc"}], {}, date(2024, 1, 1))
    with pytest.raises(UnknownCertification):
        source.declare_equivalence("RNCP34174BC01", target, "RNCP40344BC09")
    with pytest.raises(InvalidInput):  # nor a block of its own outside its current version
        source.declare_equivalence("RNCP34174BC09", target, "RNCP40344BC01")
    assert source.pending_events[-1].__class__.__name__ == "VersionPublished"
    source.declare_equivalence("RNCP34174BC01", target, "RNCP40344BC01")
    assert source.equivalences == [{"blocks": ["RNCP34174BC01"], "target": "RNCP40344",
                                    "target_blocks": ["RNCP40344BC01"], "source": "BRANCH"}]


FICHE = {
    "number": "RNCP37250", "title": "CQPM Technicien de maintenance", "level": "4", "active": True, "state": None,
    "registration_type": None, "decision_date": date(2023, 1, 1), "effect_date": None, "end_date": None,
    "delivery_deadline": None, "routes": ["VAE"], "certifiers": [], "predecessors": [], "successors": [],
    "blocks": [{"code": "RNCP37250BC01", "title": "Maintenance", "competences": None, "modalities": None}],
    "correspondences": [{"blocks": ["RNCP37250BC01"], "target_fiche": "RNCP1", "target_blocks": ["RNCP1BC01"]}],
}


def test_a_fiche_merged_again_records_nothing_and_keeps_the_branches_own_equivalences():
    certification = Certification.from_fiche(FICHE, ["UIMM"], None)
    assert certification.kind == "CQPM" and certification.current_version["effective_from"] == date(2023, 1, 1)
    assert certification.registration["registry"] == "RNCP" and certification.registration["level"] == "4"
    target = create(code="RNCP2", kind="CQP")
    target.publish_version([{"code": "RNCP2BC01", "title": "Bloc"}], {}, date(2024, 1, 1))
    certification.declare_equivalence("RNCP37250BC01", target, "RNCP2BC01")
    recorded = len(certification.pending_events)
    certification.merge_fiche(FICHE, ["UIMM"])
    assert len(certification.pending_events) == recorded
    certification.merge_fiche({**FICHE, "correspondences": []}, ["UIMM", "UIT"])
    assert [e["source"] for e in certification.equivalences] == ["BRANCH"]
    assert certification.owners == ["UIMM", "UIT"]


def in_a_command(work):
    context = contextvars.copy_context()
    context.run(current_command.set, CONTEXT)
    return context.run(work)


def test_a_branch_sets_its_delays_over_the_defaults_and_keeps_those_it_leaves_out():
    branch = in_a_command(lambda: Branch.create("UIMM", "Métallurgie", ["3109"], ""))
    first = in_a_command(lambda: branch.set_deadlines({"declaration_months": 2, "unanswered_admissibility": "ESCALATED"}))
    assert first == {**BranchDeadlines().model_dump(mode="json"), "declaration_months": 2,
                     "unanswered_admissibility": "ESCALATED"}
    second = in_a_command(lambda: branch.set_deadlines({"results_days_after": 30}))
    assert (second["declaration_months"], second["results_days_after"]) == (2, 30)
    assert [type(e).__name__ for e in branch.collect_events()] == ["Created", "DeadlinesSet", "DeadlinesSet"]


@pytest.mark.parametrize("changes", [{"admissibility_answer_days": 10},  # its reminder (15 days) would come first
                                     {"declaration_months": 1, "declaration_reminder_days": 40}])
def test_a_reminder_after_its_delay_is_refused_and_nothing_is_recorded(changes):
    branch = in_a_command(lambda: Branch.create("UIMM", "Métallurgie", ["3109"], ""))
    with pytest.raises(InvalidInput, match="reminder"):
        in_a_command(lambda: branch.set_deadlines(changes))
    assert [type(e).__name__ for e in branch.collect_events()] == ["Created"]
