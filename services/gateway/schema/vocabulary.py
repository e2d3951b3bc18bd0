"""The domain's enums (shared/vocabulary.py), shown in GraphQL: registered here once."""

from __future__ import annotations

import enum

import strawberry

from shared import vocabulary

CertificationKind = strawberry.enum(vocabulary.CertificationKind)
Registry = strawberry.enum(vocabulary.Registry)
Level = strawberry.enum(vocabulary.Level)
AccessRoute = strawberry.enum(vocabulary.AccessRoute)
AccreditationScope = strawberry.enum(vocabulary.AccreditationScope)
OrganisationKind = strawberry.enum(vocabulary.OrganisationKind)
EquivalenceSource = strawberry.enum(vocabulary.EquivalenceSource)
CandidateStatus = strawberry.enum(vocabulary.CandidateStatus)
Route = strawberry.enum(vocabulary.Route)
BlockState = strawberry.enum(vocabulary.BlockState)
Funder = strawberry.enum(vocabulary.Funder)
ExperienceKind = strawberry.enum(vocabulary.ExperienceKind)
Modality = strawberry.enum(vocabulary.Modality)
College = strawberry.enum(vocabulary.College)
MemberRole = strawberry.enum(vocabulary.MemberRole)
Decision = strawberry.enum(vocabulary.Decision)
CertificateKind = strawberry.enum(vocabulary.CertificateKind)
CandidacyStatus = strawberry.enum(vocabulary.CandidacyStatus)
FundingStatus = strawberry.enum(vocabulary.FundingStatus)
AdmissibilityStatus = strawberry.enum(vocabulary.AdmissibilityStatus)
JurySessionStatus = strawberry.enum(vocabulary.JurySessionStatus)
DeclarationState = strawberry.enum(vocabulary.DeclarationState)
DocumentKind = strawberry.enum(vocabulary.DocumentKind)
DeadlineKind = strawberry.enum(vocabulary.DeadlineKind)
DeadlineState = strawberry.enum(vocabulary.DeadlineState)
UnansweredAdmissibility = strawberry.enum(vocabulary.UnansweredAdmissibility)


@strawberry.enum(description="The order of a list: ascending (the default) or descending")
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"
AggregateKind = strawberry.enum(vocabulary.AggregateKind)
