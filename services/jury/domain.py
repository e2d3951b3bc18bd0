"""Jury aggregates: the dossier of a candidacy (block evaluations), the paritaire jury session and
its decisions, the certificates. Every event records who caused it, for which organisation, and why
(shared/domain.py).
"""

from __future__ import annotations

import calendar
import secrets
import uuid
from dataclasses import dataclass
from datetime import date

from eventsourcing.domain import event

from shared.domain import Aggregate
from shared.errors import CommandRefused, InvalidInput, NotFound
from shared.vocabulary import College, Decision, MemberRole, Modality

_IDS = uuid.UUID("9d4c1a52-6f0e-4b8a-b1f3-2e7d5c9a0b64")
MODALITIES = tuple(Modality)
COLLEGES = tuple(College)
MEMBER_ROLES = tuple(MemberRole)
DECISIONS = tuple(Decision)


class UnknownCandidacy(NotFound):
    pass


class UnknownSession(NotFound):
    pass


class UnknownMember(NotFound):
    pass


class EvaluatorNotAccredited(CommandRefused):
    pass


class BlockAlreadyAcquired(CommandRefused):
    pass


class CandidacyNotLive(CommandRefused):
    pass


class MissingBlockResults(CommandRefused):
    pass


class NotPresented(CommandRefused):
    pass


class AlreadyDecided(CommandRefused):
    pass


class UnbalancedColleges(CommandRefused):
    pass


class QuorumNotReached(CommandRefused):
    pass


class PresidencyRule(CommandRefused):
    pass


class NoMajority(CommandRefused):
    pass


class AwardWithMissingBlock(CommandRefused):
    pass


class SessionFull(CommandRefused):
    pass


class CorrectionNeedsReason(InvalidInput):
    pass


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class CandidacyFacts:
    """What the jury service knows of a candidacy, from the candidacy service's events."""

    candidacy_id: str
    candidate_id: str
    certification: str
    version: int
    blocks: dict[str, str]  # block → positioning state: PENDING, TO_ACQUIRE, HELD, RECOGNISED
    status: str
    evaluator_id: str | None = None  # the organisation evaluating it
    branches: frozenset[str] = frozenset()  # the branches owning its certification

    def check_live(self) -> None:
        if self.status in ("WITHDRAWN", "CLOSED"):
            raise CandidacyNotLive("the candidacy is " + self.status.lower(), status=self.status)


class Dossier(Aggregate):
    """The jury's file of one candidacy: each block's latest evaluation, and the decisions on it."""

    @staticmethod
    def create_id(candidacy_id: str, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"dossier:{candidacy_id}")

    @event("Opened")
    def __init__(self, candidacy_id: str, candidate_id: str, certification: str, version: int):
        self.candidacy_id = candidacy_id
        self.candidate_id = candidate_id
        self.certification = certification
        # Not `self.version`: that is the aggregate's own version, which every event moves on.
        self.referential_version = version
        self.results: dict[str, dict] = {}  # block → latest evaluation
        self.acquired_by_decision: list[str] = []
        self.awarded = False

    def acquired(self, block: str, positioning: dict[str, str], on: date) -> bool:
        """Held or recognised at positioning, or validated and still within its validity."""
        if positioning.get(block) in ("HELD", "RECOGNISED"):
            return True
        result = self.results.get(block)
        return bool(result and result["validated"] and (result["valid_until"] is None or result["valid_until"] >= on))

    def evaluate(self, facts: CandidacyFacts, block: str, competences: list[dict], modality: str, evaluator: str,
                 organisation_id: str, accredited: set[str], on: date, evidence: str, validity_months: int | None) -> bool:
        facts.check_live()
        if organisation_id not in accredited:
            raise EvaluatorNotAccredited("the organisation is not accredited to evaluate for this certification on "
                                         "that date", organisation_id=organisation_id, on=str(on))
        if block not in facts.blocks:
            raise InvalidInput("the block is not claimed by this candidacy", block=block)
        if modality not in MODALITIES:
            raise InvalidInput(f"a modality is one of {', '.join(MODALITIES)}", modality=modality)
        if not competences:
            raise InvalidInput("an evaluation gives the result of each competence assessed")
        if self.acquired(block, facts.blocks, on):
            raise BlockAlreadyAcquired("this block is already acquired and is not evaluated again", block=block)
        validated = all(c["acquired"] for c in competences)
        valid_until = add_months(on, validity_months) if validated and validity_months else None
        self._evaluated(candidacy_id=self.candidacy_id, candidate_id=self.candidate_id,
                        certification=self.certification, version=self.referential_version, block=block, validated=validated,
                        competences=competences, modality=modality, evaluator=evaluator,
                        organisation_id=organisation_id, on=on, evidence=evidence, valid_until=valid_until)
        return validated

    @event("BlockEvaluated")
    def _evaluated(self, candidacy_id: str, candidate_id: str, certification: str, version: int, block: str,
                   validated: bool, competences: list[dict], modality: str, evaluator: str, organisation_id: str,
                   on: date, evidence: str, valid_until: date | None) -> None:
        self.results[block] = {"validated": validated, "on": on, "valid_until": valid_until}

    def to_present(self, facts: CandidacyFacts, on: date) -> list[str]:
        """The blocks a session examines: those with a result and not acquired by an earlier decision.
        Refused while any claimed block has no result (or a result past its validity)."""
        missing = [b for b in facts.blocks
                   if not self.acquired(b, facts.blocks, on) and (b not in self.results or self.results[b]["validated"])]
        if missing:
            raise MissingBlockResults("every block claimed needs an evaluation result before the jury",
                                      blocks=missing)
        return [b for b in facts.blocks if b not in self.acquired_by_decision]

    @event("DecisionRecorded")
    def record_decision(self, session_id: str, decision: str, blocks_acquired: list[str]) -> None:
        self.acquired_by_decision = sorted(set(self.acquired_by_decision) | set(blocks_acquired))
        self.awarded = self.awarded or decision == "FULL_AWARD"


class JurySession(Aggregate):
    """A paritaire national jury, scheduled by a branch for one or several certifications."""

    @event("Scheduled")
    def __init__(self, branch: str, certifications: list[str], on: date, place: str, remote: bool, capacity: int):
        self.branch = branch
        self.certifications = certifications
        self.on = on
        self.place = place
        self.remote = remote
        self.capacity = capacity
        self.members: dict[str, dict] = {}
        self.presented: dict[str, dict] = {}  # candidacy → {"blocks": [...], "decision": None | {...}}

    @classmethod
    def schedule(cls, branch: str, certifications: list[str], on: date, place: str, remote: bool, capacity: int) -> JurySession:
        if capacity < 1:
            raise InvalidInput("a session examines at least one candidacy", capacity=capacity)
        if not remote and not place:
            raise InvalidInput("a session is held remotely or at a place")
        return cls(branch=branch, certifications=certifications, on=on, place=place, remote=remote,
                   capacity=capacity)

    def appoint(self, name: str, college: str, role: str) -> str:
        if college not in COLLEGES:
            raise InvalidInput(f"a college is one of {', '.join(COLLEGES)}", college=college)
        if role not in MEMBER_ROLES:
            raise InvalidInput(f"a member's role is one of {', '.join(MEMBER_ROLES)}", role=role)
        if role != "MEMBER" and any(m["role"] == role for m in self.members.values()):
            raise InvalidInput(f"the session already has a {role.lower().replace('_', '-')}", role=role)
        member_id = str(uuid.uuid4())
        self._appointed(member_id=member_id, name=name, college=college, role=role)
        return member_id

    @event("MemberAppointed")
    def _appointed(self, member_id: str, name: str, college: str, role: str) -> None:
        self.members[member_id] = {"name": name, "college": college, "role": role}

    def present(self, facts: CandidacyFacts, dossier: Dossier) -> list[str]:
        facts.check_live()
        if facts.certification not in self.certifications:
            raise InvalidInput("the session does not examine this certification", certification=facts.certification)
        if facts.candidacy_id in self.presented:
            raise AlreadyDecided("the candidacy is already presented to this session")
        if len(self.presented) >= self.capacity:
            raise SessionFull("the session has no room left", capacity=self.capacity)
        blocks = dossier.to_present(facts, self.on)
        self._presented(candidacy_id=facts.candidacy_id, blocks=blocks)
        return blocks

    @event("CandidacyPresented")
    def _presented(self, candidacy_id: str, blocks: list[str]) -> None:
        self.presented[candidacy_id] = {"blocks": blocks, "decision": None}

    def check_composition(self, present: list[str], quorum: int) -> None:
        unknown = [m for m in present if m not in self.members]
        if unknown:
            raise UnknownMember("these members were not appointed to the session", members=unknown)
        members = [self.members[m] for m in present]
        employers = sum(m["college"] == "EMPLOYER" for m in members)
        if employers * 2 != len(members):
            raise UnbalancedColleges("the colleges present are not in equal numbers",
                                     employer=employers, employee=len(members) - employers)
        if len(members) < quorum:
            raise QuorumNotReached("fewer members present than the quorum", present=len(members), quorum=quorum)
        colleges = {m["role"]: m["college"] for m in members if m["role"] != "MEMBER"}
        if set(colleges) != {"PRESIDENT", "VICE_PRESIDENT"} or colleges["PRESIDENT"] == colleges["VICE_PRESIDENT"]:
            raise PresidencyRule("the president and the vice-president must be present, from different colleges",
                                 present_roles=colleges)

    def decide(self, facts: CandidacyFacts, dossier: Dossier, decision: str, present: list[str], votes: dict,
               quorum: int, version_blocks: list[str]) -> list[str]:
        """Record the decision on a presented candidacy; returns the blocks acquired."""
        if decision not in DECISIONS:
            raise InvalidInput(f"a decision is one of {', '.join(DECISIONS)}", decision=decision)
        presented = self.presented.get(facts.candidacy_id)
        if presented is None:
            raise NotPresented("the candidacy was not presented to this session")
        if presented["decision"] is not None:
            raise AlreadyDecided("a decision is final: correct it with its reason instead")
        self.check_composition(present, quorum)
        if sum(votes.values()) != len(present) or votes["for"] * 2 <= len(present):
            raise NoMajority("a decision needs the absolute majority of the members present", votes=votes,
                             present=len(present))
        acquired = [b for b in version_blocks if dossier.acquired(b, facts.blocks, self.on)]
        if decision == "FULL_AWARD" and (missing := [b for b in version_blocks if b not in acquired]):
            raise AwardWithMissingBlock("a full award needs every block of the version validated, held or "
                                        "recognised", missing=missing)
        if decision == "PARTIAL_VALIDATION" and not acquired:
            raise InvalidInput("a partial validation acquires at least one block")
        blocks = acquired if decision in ("FULL_AWARD", "PARTIAL_VALIDATION") else []
        self._decided(candidacy_id=facts.candidacy_id, candidate_id=facts.candidate_id,
                      certification=facts.certification, version=facts.version, decision=decision,
                      blocks_acquired=blocks, present=present, votes=votes, decided_on=self.on)
        dossier.record_decision(session_id=str(self.id), decision=decision, blocks_acquired=blocks)
        return blocks

    @event("Decided")
    def _decided(self, candidacy_id: str, candidate_id: str, certification: str, version: int, decision: str,
                 blocks_acquired: list[str], present: list[str], votes: dict, decided_on: date) -> None:
        self.presented[candidacy_id]["decision"] = {"decision": decision, "blocks_acquired": blocks_acquired}

    def correct(self, candidacy_id: str, decision: str, reason: str) -> None:
        presented = self.presented.get(candidacy_id)
        if presented is None or presented["decision"] is None:
            raise NotPresented("there is no decision on this candidacy to correct")
        if not reason.strip():
            raise CorrectionNeedsReason("a correction says why")
        if decision not in DECISIONS:
            raise InvalidInput(f"a decision is one of {', '.join(DECISIONS)}", decision=decision)
        self._corrected(candidacy_id=candidacy_id, previous=presented["decision"]["decision"], decision=decision,
                        reason=reason.strip())

    @event("DecisionCorrected")
    def _corrected(self, candidacy_id: str, previous: str, decision: str, reason: str) -> None:
        self.presented[candidacy_id]["decision"]["decision"] = decision


class Certificate(Aggregate):
    """A certificate (full award) or an attestation of the blocks acquired (partial validation)."""

    @staticmethod
    def create_id(number: str, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"certificate:{number}")

    @staticmethod
    def new_number(certification: str) -> str:
        # 80 random bits: a number cannot be guessed from another.
        return f"{certification}-{secrets.token_hex(10).upper()}"

    @event("Issued")
    def __init__(self, number: str, kind: str, candidate_id: str, holder: str, candidacy_id: str,
                 certification: str, version: int, blocks: list[str], awarded_on: date, session_id: str):
        self.number = number
        self.kind = kind
        self.candidacy_id = candidacy_id
        self.candidate_id = candidate_id
        self.holder = holder
        self.certification = certification
        self.referential_version = version
        self.blocks = blocks
        self.awarded_on = awarded_on
        self.session_id = session_id
