"""Stored catalog events → public contracts (a pure function)."""

from __future__ import annotations

from shared.contracts import catalog as public

from services.catalog.domain import Branch, Certification, Organisation


def to_contract(e) -> public.Contract | None:
    match e:
        case Branch.Created():
            return public.BranchCreated(code=e.code, name=e.name, idcc=e.idcc, cpne=e.cpne)
        case Branch.ContactSet():
            return public.BranchContactSet(branch=e.code, email=e.email)
        case Branch.DeadlinesSet():
            return public.BranchDeadlinesSet(branch=e.code, deadlines=public.BranchDeadlines(**e.deadlines))
        case Organisation.Registered():
            return public.OrganisationRegistered(organisation_id=str(e.originator_id), name=e.name, siret=e.siret,
                                                 kinds=e.kinds)
        case Organisation.Accredited():
            return public.OrganisationAccredited(
                organisation_id=str(e.originator_id), accreditation_id=e.accreditation_id, branch=e.branch,
                certifications=e.certifications, scope=e.scope, valid_from=e.valid_from, valid_until=e.valid_until)
        case Organisation.AccreditationWithdrawn():
            return public.AccreditationWithdrawn(organisation_id=str(e.originator_id),
                                                 accreditation_id=e.accreditation_id, on=e.on, reason=e.reason)
        case Certification.Created():
            return public.CertificationCreated(code=e.code, kind=e.kind, title=e.title, owners=e.owners)
    match e:
        case Certification.Retitled():
            return public.CertificationRetitled(code=e.code, title=e.title)
        case Certification.OwnersChanged():
            return public.CertificationOwnersChanged(code=e.code, owners=e.owners)
        case Certification.VersionPublished():
            return public.ReferentialVersionPublished(code=e.code, version=e.number, effective_from=e.effective_from,
                                                      blocks=e.blocks, settings=e.settings)
        case Certification.RegistrationRecorded():
            return public.RegistrationRecorded(code=e.code, registration=e.registration)
        case Certification.CertifiersRecorded():
            return public.CertifiersRecorded(code=e.code, certifiers=e.certifiers)
        case Certification.SuccessionRecorded():
            return public.SuccessionRecorded(code=e.code, predecessors=e.predecessors, successors=e.successors)
        case Certification.EquivalencesRecorded():
            return public.BlockEquivalencesRecorded(code=e.code, equivalences=e.equivalences)
    return None
