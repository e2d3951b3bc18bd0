"""Catalog commands on the library's in-memory event store: each rule refuses with a typed error
and writes nothing."""

from datetime import date

import pytest

from shared.context import Actor, CommandContext, current_caller
from shared.errors import Forbidden
from shared.identity import Caller
from services.catalog.application import CatalogApplication
from services.catalog.domain import (
    AccreditationAlreadyWithdrawn,
    BranchDoesNotOwnCertification,
    Certification,
    CertificationExpired,
    CqpiNeedsSeveralBranches,
    UnknownBranch,
    UnknownOrganisation,
)
from tests.unit.as_client import AsClient

ACTOR = Actor(user_id="u1", organisation_id="UIMM", role="branch-admin")
_keys = iter(range(10**6))


def ctx() -> CommandContext:
    return CommandContext.new(ACTOR, f"key-{next(_keys)}")


@pytest.fixture
def app():
    app = AsClient(CatalogApplication())
    for code in ("UIMM", "LEEM", "UIT"):
        app.create_branch({"code": code, "name": code, "idcc": [], "cpne": ""}, ctx())
    return app


def certification(code="RNCP34174", kind="CQPM", owners=("UIMM",), blocks=None):
    return {"code": code, "kind": kind, "title": f"{kind} {code}", "owners": list(owners),
            "blocks": blocks if blocks is not None else [{"code": f"{code}BC01", "title": "Bloc 1",
                                                          "competences": None, "modalities": None}],
            "settings": {}, "effective_from": date(2024, 1, 1)}


def organisation(app) -> str:
    return app.register_organisation({"name": "AFPI", "siret": "78471719100018", "kinds": ["EVALUATION_CENTRE"]},
                                     ctx()).result["id"]


def events(app) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app, error, command, *args):
    written = events(app)
    with pytest.raises(error):
        command(*args, ctx())
    assert events(app) == written, "a refused command wrote events"


def test_a_cqpi_needs_two_owning_branches(app):
    refused(app, CqpiNeedsSeveralBranches, app.create_certification, certification(kind="CQPI", owners=["UIMM"]))


def test_owners_must_be_known_branches(app):
    refused(app, UnknownBranch, app.create_certification, certification(owners=["NOPE"]))


def test_each_branch_owning_a_cqpi_may_accredit_for_it_and_no_other(app):
    app.create_certification(certification("RNCP1", "CQPI", ["UIMM", "LEEM"]), ctx())
    org = organisation(app)
    for branch in ("UIMM", "LEEM"):
        app.accredit({"organisation_id": org, "branch": branch, "certifications": ["RNCP1"], "scope": "EVALUATION",
                      "valid_from": date(2024, 1, 1), "valid_until": None}, ctx())
    refused(app, BranchDoesNotOwnCertification, app.accredit,
            {"organisation_id": org, "branch": "UIT", "certifications": ["RNCP1"], "scope": "EVALUATION",
             "valid_from": date(2024, 1, 1), "valid_until": None})


def test_no_accreditation_for_an_expired_certification(app):
    app.create_certification(certification(), ctx())
    app.record_registration({"code": "RNCP34174", "registry": "RNCP", "number": "RNCP34174", "level": "NIV3",
                             "active": True, "state": None, "registration_type": None, "decision_date": None,
                             "effect_date": None, "end_date": date(2021, 7, 21), "delivery_deadline": None,
                             "routes": ["VAE"]}, ctx())
    refused(app, CertificationExpired, app.accredit,
            {"organisation_id": organisation(app), "branch": "UIMM", "certifications": ["RNCP34174"],
             "scope": "EVALUATION", "valid_from": date(2024, 1, 1), "valid_until": None})


def test_an_accreditation_is_withdrawn_once(app):
    app.create_certification(certification(), ctx())
    org = organisation(app)
    accreditation = app.accredit({"organisation_id": org, "branch": "UIMM", "certifications": ["RNCP34174"],
                                  "scope": "EVALUATION", "valid_from": date(2024, 1, 1), "valid_until": None},
                                 ctx()).result["accreditation_id"]
    withdrawal = {"organisation_id": org, "accreditation_id": accreditation, "on": date(2025, 1, 1), "reason": "audit"}
    app.withdraw_accreditation(withdrawal, ctx())
    refused(app, AccreditationAlreadyWithdrawn, app.withdraw_accreditation, withdrawal)


def test_a_succession_is_recorded_on_both_certifications_at_once(app):
    app.create_certification(certification("RNCP19468", "CQP"), ctx())
    app.create_certification(certification("RS6117", "CQP"), ctx())
    app.declare_succession({"predecessor": "RNCP19468", "successor": "RS6117"}, ctx())
    assert app.certification("RNCP19468").successors == ["RS6117"]
    assert app.certification("RS6117").predecessors == ["RNCP19468"]


def as_branch_admin(*branches):
    """Decide the next commands as the admin of those branches only."""
    current_caller.set(Caller(user_id="admin", organisation_id=branches[0], branches=branches,
                              roles=frozenset({"branch-admin"})))


def test_a_succession_needs_the_owners_of_both_certifications(app):
    """Only the successor's owner used to be checked: a branch declared a succession onto another's."""
    app.create_certification(certification("RNCP1", owners=["LEEM"]), ctx())
    app.create_certification(certification("RNCP2", owners=["UIMM"]), ctx())
    as_branch_admin("UIMM")
    refused(app, Forbidden, app.declare_succession, {"predecessor": "RNCP1", "successor": "RNCP2"})
    refused(app, Forbidden, app.declare_succession, {"predecessor": "RNCP2", "successor": "RNCP1"})
    as_branch_admin("UIMM", "LEEM")
    app.declare_succession({"predecessor": "RNCP1", "successor": "RNCP2"}, ctx())
    assert app.certification("RNCP1").successors == ["RNCP2"]


def test_a_co_owner_of_a_cqpi_adds_owners_but_removes_only_itself(app):
    app.create_certification(certification("RNCP1", "CQPI", ["UIMM", "LEEM"]), ctx())
    as_branch_admin("UIMM")
    refused(app, Forbidden, app.change_owners, {"code": "RNCP1", "owners": ["UIMM", "UIT"]})  # LEEM pushed out
    app.change_owners({"code": "RNCP1", "owners": ["UIMM", "LEEM", "UIT"]}, ctx())
    app.change_owners({"code": "RNCP1", "owners": ["LEEM", "UIT"]}, ctx())  # UIMM leaves
    assert app.certification("RNCP1").owners == ["LEEM", "UIT"]
    refused(app, Forbidden, app.change_owners, {"code": "RNCP1", "owners": ["UIMM", "LEEM", "UIT"]})


FICHE = {
    "number": "RNCP19468", "title": "CQP Tourier", "level": None, "active": False, "state": None,
    "registration_type": None, "decision_date": None, "effect_date": None, "end_date": date(2021, 7, 21),
    "delivery_deadline": None, "routes": ["VAE", "FC"],
    "certifiers": [{"siret": "78466840200018", "name": "CONFEDE. NATIONALE BOULANGERS PATISSIERS"}],
    "blocks": [], "predecessors": [], "successors": ["RS6117"], "correspondences": [], "idcc": ["3117"],
}


def import_fiche(app, fiche, owners=()):
    return app.import_fiche({"fiche": fiche, "owners": list(owners), "kind": None}, ctx())


def test_importing_a_fiche_creates_its_certification_with_what_the_registry_says(app):
    outcome = import_fiche(app, FICHE)
    assert outcome.result["status"] == "created"
    certification = app.certification("RNCP19468")
    assert certification.kind == "CQP" and certification.successors == ["RS6117"]
    assert certification.registration["end_date"] == date(2021, 7, 21)
    assert certification.certifiers[0]["siret"] == "78466840200018"


def test_importing_the_same_fiche_again_writes_nothing(app):
    import_fiche(app, FICHE)
    written = events(app)
    outcome = import_fiche(app, FICHE)
    assert outcome.result["status"] == "unchanged" and outcome.event_ids == []
    assert app.certification("RNCP19468").version == 4  # created, registration, certifiers, succession
    assert events(app) == written + 1  # only the command record of the second import


def test_importing_a_newer_fiche_writes_only_what_changed(app):
    import_fiche(app, FICHE)
    newer = {**FICHE, "title": "CQP Tourier (révisé)",
             "blocks": [{"code": "RNCP19468BC01", "title": "Tourage", "competences": None, "modalities": None}]}
    outcome = import_fiche(app, newer)
    assert outcome.result["status"] == "updated"
    assert len(outcome.event_ids) == 2  # retitled, version published
    assert app.certification("RNCP19468").current_version["number"] == 1


def test_the_kind_of_an_imported_fiche_comes_from_its_title(app):
    import_fiche(app, {**FICHE, "number": "RNCP37250", "title": "CQPM Technicien de maintenance"})
    import_fiche(app, {**FICHE, "number": "RNCP37251", "title": "CQPI Agent logistique"}, owners=["UIMM", "UIT"])
    assert app.certification("RNCP37250").kind == "CQPM"
    assert app.certification("RNCP37251").kind == "CQPI"


def test_the_id_of_another_kind_of_aggregate_is_no_organisation(app):
    app.create_certification(certification(), ctx())
    refused(app, UnknownOrganisation, app.accredit,
            {"organisation_id": str(Certification.create_id("RNCP34174")), "branch": "UIMM",
             "certifications": ["RNCP34174"], "scope": "EVALUATION", "valid_from": date(2024, 1, 1),
             "valid_until": None})
