"""The catalog's endpoints: its commands (shared/commands/catalog.py), the batch import of a fiche among them."""

from __future__ import annotations

from shared.commands.catalog import (
    Accredit, ChangeOwners, CreateBranch, CreateCertification, DeclareEquivalence, DeclareSuccession, ImportFiche,
    PublishVersion, RecordRegistration, RegisterOrganisation, WithdrawAccreditation,
)
from shared.http import Endpoint, threaded

from services.catalog.application import CatalogApplication


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
