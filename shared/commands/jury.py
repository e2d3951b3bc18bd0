"""The jury service's commands."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.commands import Code, Command, Id, Part
from shared.vocabulary import College, Decision, MemberRole, Modality


class CompetenceResult(Part):
    competence: str = Field(min_length=1, max_length=1000)
    acquired: bool


class RecordEvaluation(Command):
    operation = "record-evaluation"

    candidacy_id: str = Id
    block: str = Field(min_length=1, max_length=64)
    competences: list[CompetenceResult] = Field(min_length=1, max_length=100)
    modality: Modality
    evaluator: str = Field(min_length=1, max_length=200, description="The person who evaluated")
    on: date
    evidence: str = Field(min_length=1, max_length=500, description="Where the evidence is kept")


class ScheduleSession(Command):
    operation = "schedule-session"
    graphql_name = "ScheduleJurySessionInput"

    branch: str = Code
    certifications: list[str] = Field(min_length=1, max_length=50)
    on: date
    place: str = Field(default="", max_length=300)
    remote: bool = False
    capacity: int = Field(ge=1, le=1000)


class AppointMember(Command):
    operation = "appoint-member"
    graphql_name = "AppointJuryMemberInput"

    session_id: str = Id
    name: str = Field(min_length=1, max_length=200)
    college: College
    role: MemberRole = MemberRole.MEMBER


class Present(Command):
    operation = "present"
    graphql_name = "PresentCandidacyInput"

    session_id: str = Id
    candidacy_id: str = Id


class Decide(Present):
    operation = "decide"
    graphql_name = None

    decision: Decision
    present_members: list[str] = Field(min_length=1, max_length=50)
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0, default=0)
    abstentions: int = Field(ge=0, default=0)


class CorrectDecision(Present):
    operation = "correct-decision"
    graphql_name = None

    decision: Decision
    reason: str = Field(max_length=2000)


class DeclareHolders(Command):
    """The awards written in a declaration file for the Caisse des Dépôts (`cqp cdc export`)."""

    operation = "declare-holders"

    file: str = Field(min_length=1, max_length=50, description="The file's idFlux")
    numbers: list[str] = Field(min_length=1, max_length=5_000)


class RecordDeclarationOutcome(Command):
    """The portal's answer for one passage (`cqp cdc report`)."""

    operation = "record-declaration-outcome"

    file: str = Field(min_length=1, max_length=50)
    number: str = Field(min_length=1, max_length=80)
    accepted: bool
    messages: list[str] = Field(default_factory=list, max_length=50)
