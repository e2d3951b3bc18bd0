"""The catalog's endpoints: its commands (shared/commands/catalog.py), the batch import of a fiche among them,
each decided by the application on its own aggregates (no facts read before)."""

from __future__ import annotations

from shared.commands.catalog import (
    Accredit, ChangeOwners, CreateBranch, CreateCertification, DeclareEquivalence, DeclareSuccession, ImportFiche,
    PublishVersion, RecordRegistration, RegisterOrganisation, SetBranchContact, SetBranchDeadlines, WithdrawAccreditation,
)
from shared.http import Endpoint

from services.catalog.application import CatalogApplication


def commands(app: CatalogApplication, _pool) -> dict[str, Endpoint]:
    endpoints = [
        Endpoint(CreateBranch, None, app.create_branch),
        Endpoint(SetBranchDeadlines, None, app.set_branch_deadlines),
        Endpoint(SetBranchContact, None, app.set_branch_contact),
        Endpoint(RegisterOrganisation, None, app.register_organisation),
        Endpoint(CreateCertification, None, app.create_certification),
        Endpoint(PublishVersion, None, app.publish_version),
        Endpoint(ChangeOwners, None, app.change_owners),
        Endpoint(RecordRegistration, None, app.record_registration),
        Endpoint(DeclareSuccession, None, app.declare_succession),
        Endpoint(DeclareEquivalence, None, app.declare_equivalence),
        Endpoint(Accredit, None, app.accredit),
        Endpoint(WithdrawAccreditation, None, app.withdraw_accreditation),
        Endpoint(ImportFiche, None, app.import_fiche),
    ]
    return {endpoint.input.operation: endpoint for endpoint in endpoints}
