"""The words of the domain, each concept one enum, declared once.

The domains check against them, the commands and the public contracts are typed with them, and the
GraphQL schema shows them (registered as strawberry enums by the gateway). Pure standard library, so
domain modules may import it. Values are the words stored in events and sent on the wire.
"""

from __future__ import annotations

import enum


class CertificationKind(enum.StrEnum):
    CQP = "CQP"
    CQPM = "CQPM"
    CQPI = "CQPI"


class Registry(enum.StrEnum):
    RNCP = "RNCP"
    RS = "RS"


class Level(enum.StrEnum):
    """The European level of an RNCP registration."""

    NIV1 = "NIV1"
    NIV2 = "NIV2"
    NIV3 = "NIV3"
    NIV4 = "NIV4"
    NIV5 = "NIV5"
    NIV6 = "NIV6"
    NIV7 = "NIV7"
    NIV8 = "NIV8"


class AccessRoute(enum.StrEnum):
    """The routes to a certification as France Compétences registers them (SI_JURY_*)."""

    FI = "FI"  # initial training
    CA = "CA"  # apprenticeship
    FC = "FC"  # continuing training
    CQ = "CQ"  # professionalisation contract
    CL = "CL"  # individual application
    VAE = "VAE"


class AccreditationScope(enum.StrEnum):
    EVALUATION = "EVALUATION"
    TRAINING = "TRAINING"


class OrganisationKind(enum.StrEnum):
    CERTIFIER = "CERTIFIER"
    EVALUATION_CENTRE = "EVALUATION_CENTRE"
    TRAINING_ORGANISATION = "TRAINING_ORGANISATION"
    FUNDER = "FUNDER"
    EMPLOYER = "EMPLOYER"


class EquivalenceSource(enum.StrEnum):
    FRANCE_COMPETENCES = "FRANCE_COMPETENCES"
    BRANCH = "BRANCH"


class CandidateStatus(enum.StrEnum):
    EMPLOYEE = "EMPLOYEE"
    JOB_SEEKER = "JOB_SEEKER"
    INITIAL_TRAINING = "INITIAL_TRAINING"
    WORK_STUDY = "WORK_STUDY"


class Route(enum.StrEnum):
    """How a candidate seeks the certification."""

    TRAINING = "TRAINING"
    VAE = "VAE"
    DIRECT_ACCESS = "DIRECT_ACCESS"


class BlockState(enum.StrEnum):
    PENDING = "PENDING"
    TO_ACQUIRE = "TO_ACQUIRE"
    HELD = "HELD"
    RECOGNISED = "RECOGNISED"


class FundingStatus(enum.StrEnum):
    """Where a funding request stands: requested, then granted or refused (once)."""

    REQUESTED = "REQUESTED"
    GRANTED = "GRANTED"
    REFUSED = "REFUSED"


class AdmissibilityStatus(enum.StrEnum):
    """A VAE admissibility request (Livret 1): filed, then decided."""

    FILED = "FILED"
    ADMISSIBLE = "ADMISSIBLE"
    INADMISSIBLE = "INADMISSIBLE"


class Funder(enum.StrEnum):
    OPCO = "OPCO"
    EMPLOYER_SKILLS_PLAN = "EMPLOYER_SKILLS_PLAN"
    CPF = "CPF"
    BRANCH = "BRANCH"
    TRANSITIONS_PRO = "TRANSITIONS_PRO"


class ExperienceKind(enum.StrEnum):
    PAID = "PAID"
    VOLUNTEER = "VOLUNTEER"
    UNION = "UNION"
    ELECTED = "ELECTED"
    SPORT = "SPORT"
    INTERNSHIP = "INTERNSHIP"


class Modality(enum.StrEnum):
    PRACTICAL_SITUATION = "PRACTICAL_SITUATION"
    TEST = "TEST"
    INTERVIEW = "INTERVIEW"
    REPORT = "REPORT"


class College(enum.StrEnum):
    EMPLOYER = "EMPLOYER"
    EMPLOYEE = "EMPLOYEE"


class MemberRole(enum.StrEnum):
    PRESIDENT = "PRESIDENT"
    VICE_PRESIDENT = "VICE_PRESIDENT"
    MEMBER = "MEMBER"


class Decision(enum.StrEnum):
    FULL_AWARD = "FULL_AWARD"
    PARTIAL_VALIDATION = "PARTIAL_VALIDATION"
    REFUSAL = "REFUSAL"
    DEFERRAL = "DEFERRAL"
    ABSENT = "ABSENT"


class JurySessionStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    HELD = "HELD"  # from its first decision on


class JuryRule(enum.StrEnum):
    """How a version's jury is composed (its setting `jury_rule`, recorded with each version)."""

    PARITAIRE = "PARITAIRE"  # equal colleges, president and vice-president from different colleges


class CertificateKind(enum.StrEnum):
    CERTIFICATE = "CERTIFICATE"
    ATTESTATION = "ATTESTATION"  # lists the blocks of a partial validation


class DeclarationState(enum.StrEnum):
    """Where the declaration of a holder to the Caisse des Dépôts stands."""

    PENDING = "PENDING"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"  # to be sent again in the next file


class Sex(enum.StrEnum):
    """As the civil registry and the Caisse des Dépôts' declaration record it."""

    M = "M"
    F = "F"


class CandidacyStatus(enum.StrEnum):
    OPEN = "OPEN"
    POSITIONED = "POSITIONED"
    ADMISSIBILITY_FILED = "ADMISSIBILITY_FILED"
    ADMISSIBLE = "ADMISSIBLE"
    INADMISSIBLE = "INADMISSIBLE"
    VALIDATION_FILE_SUBMITTED = "VALIDATION_FILE_SUBMITTED"
    WITHDRAWN = "WITHDRAWN"
    CLOSED = "CLOSED"


class DocumentKind(enum.StrEnum):
    """The papers of a file (shared/documents.py: what each accepts, who attaches and reads it, how long it is kept)."""

    LIVRET_1 = "LIVRET_1"  # the VAE admissibility request
    LIVRET_1_SUPPORT = "LIVRET_1_SUPPORT"  # a supporting document of the admissibility request
    LIVRET_2 = "LIVRET_2"  # the VAE validation file
    IDENTITY_DOCUMENT = "IDENTITY_DOCUMENT"  # for the holder's civil data (declaration to the Caisse des Dépôts)
    EVALUATION_EVIDENCE = "EVALUATION_EVIDENCE"  # a grid, an observation report, a photo of work, for one block
    ATTENDANCE_SHEET = "ATTENDANCE_SHEET"  # a jury session's
    JURY_MINUTES = "JURY_MINUTES"  # a jury session's
    CERTIFICATE_PDF = "CERTIFICATE_PDF"  # a certificate or block attestation, sealed by its branch (the jury issues it)
    CREDENTIAL = "CREDENTIAL"  # an award's or a block's Open Badges credential (JWT-VC), signed by its branch


class DeadlineKind(enum.StrEnum):
    """The dates the process must meet or mark (services/deadlines: what opens, meets and cancels each)."""

    HOLDER_DECLARATION = "HOLDER_DECLARATION"  # the certifier declares an award to the Caisse des Dépôts
    ADMISSIBILITY_ANSWER = "ADMISSIBILITY_ANSWER"  # the certifier answers a VAE admissibility request
    BLOCK_VALIDITY = "BLOCK_VALIDITY"  # a validated block stops counting
    REGISTRATION_END = "REGISTRATION_END"  # a certification's RNCP/RS registration ends
    ACCREDITATION_END = "ACCREDITATION_END"  # an organisation's accreditation ends
    SESSION_CONVOCATION = "SESSION_CONVOCATION"  # candidates and members convened N days before the session
    SESSION_RESULTS = "SESSION_RESULTS"  # the session closed with its minutes N days after its date


class DeadlineState(enum.StrEnum):
    OPEN = "OPEN"  # running, not yet near
    DUE = "DUE"  # its reminder date passed: to be met soon
    MET = "MET"
    MISSED = "MISSED"  # its date passed without it being met (a term reached, for a validity or an end)
    CANCELLED = "CANCELLED"  # what opened it was undone (a revoked award, a withdrawn candidacy)


class UnansweredAdmissibility(enum.StrEnum):
    """What a branch has configured to happen to a VAE admissibility request left unanswered past its delay."""

    DEEMED_ADMISSIBLE = "DEEMED_ADMISSIBLE"  # silence is worth acceptance
    ESCALATED = "ESCALATED"  # the request stays open, flagged to the branch


class AggregateKind(enum.StrEnum):
    """What an audited aggregate is (its history is read under its own row of the role table)."""

    CERTIFICATION = "CERTIFICATION"
    ORGANISATION = "ORGANISATION"
    CANDIDATE = "CANDIDATE"
    CANDIDACY = "CANDIDACY"
    JURY_SESSION = "JURY_SESSION"
