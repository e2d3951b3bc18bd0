"""The catalog's endpoints: its commands (shared/commands/catalog.py) and the batch import of a fiche."""

from __future__ import annotations

from pydantic import Field

from shared.commands import Command
from shared.commands.catalog import (
    Accredit, ChangeOwners, CreateBranch, CreateCertification, DeclareEquivalence, DeclareSuccession, PublishVersion,
    RecordRegistration, RegisterOrganisation, WithdrawAccreditation,
)
from shared.http import Endpoint, threaded
from shared.vocabulary import CertificationKind

from services.catalog.application import CatalogApplication
from services.catalog.france_competences.fiche import Fiche


class ImportFiche(Command):
    """Not in GraphQL: the batch path of `cqp catalog import`, one fiche of the registry's export."""

    operation = "import-fiche"

    fiche: Fiche
    owners: list[str] = Field(default_factory=list, max_length=30)
    kind: CertificationKind | None = None


def commands(app: CatalogApplication, _pool) -> dict[str, Endpoint]:
    endpoints = [
        threaded(CreateBranch, app.create_branch),
        threaded(RegisterOrganisation, app.register_organisation),
        threaded(CreateCertification, app.create_certification),
        threaded(PublishVersion, app.publish_version),
        threaded(ChangeOwners, app.change_owners),
        threaded(RecordRegistration, app.record_registration),
        threaded(DeclareSuccession, app.declare_succession),
        threaded(DeclareEquivalence, app.declare_equivalence),
        threaded(Accredit, app.accredit),
        threaded(WithdrawAccreditation, app.withdraw_accreditation),
        threaded(ImportFiche, app.import_fiche),
    ]
    return {endpoint.input.operation: endpoint for endpoint in endpoints}
