"""Candidates and their candidacies: aggregates, their events and rules.

Every event records who caused it, for which organisation, and why (shared/domain.py).
Facts about the catalog (accreditations, registrations, versions) and about blocks already held come
in as plain values from the service's own views; the rules deciding on them live here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from eventsourcing.domain import event

from shared import rules
from shared.commands.candidacy import OpenCandidacy
from shared.documents import (
    HELD_ONCE, STEP_PAPERS, DocumentMissing, Stored, UnknownDocument, check_purge,
)
from shared.domain import Aggregate
from shared.errors import CommandRefused, Conflict, Forbidden, InvalidInput, NotFound
from shared.vocabulary import (
    AdmissibilityStatus, BlockState, CandidacyStatus, CandidateStatus, DocumentKind, ExperienceKind, Funder,
    FundingStatus, Registry, Route,
)

STATUSES = tuple(CandidateStatus)
ROUTES = tuple(Route)
FUNDERS = tuple(Funder)
EXPERIENCE_KINDS = tuple(ExperienceKind)


class UnknownCertification(NotFound):
    pass


class UnknownCandidate(NotFound):
    pass


class UnknownCandidacy(NotFound):
    pass


class UnknownOrganisation(NotFound):
    pass


class CandidacyAlreadyOpen(Conflict):
    pass


class NotEligible(CommandRefused):
    """Carries every reason the candidacy is not eligible, not only the first."""


class TransitionRefused(CommandRefused):
    """The step makes no sense from the candidacy's current state."""


class UnknownFunding(NotFound):
    pass


# --- facts from the catalog, as the candidacy service's view holds them ---------------------------


@dataclass(frozen=True)
class CertificationFacts:
    code: str
    registry: str | None
    end_date: date | None
    routes: list[str]
    current_version: int | None
    versions: dict[int, dict]  # number → {"blocks": [...], "settings": {...}}
    accredited_evaluators: set[str]  # organisation ids accredited to evaluate, in force today
    equivalences: list[dict] = field(default_factory=list)

    def expired(self, on: date) -> bool:
        return rules.expired(self.end_date, on)


@dataclass(frozen=True)
class HeldBlock:
    """A block the candidate validated earlier (known from the jury's events)."""

    certification: str
    block: str
    valid_until: date | None  # None: for life


# --- what each command is decided on besides its aggregates (read by services/candidacy/facts.py) ------


@dataclass(frozen=True)
class StepFacts:
    """A step on a candidacy: the branches owning its certification (whose admins' rights are checked on
    it) and the day it is decided on."""

    owners: frozenset[str]
    today: date


@dataclass(frozen=True)
class CatalogStepFacts(StepFacts):
    """A step deciding on the catalog's facts of the day about the candidacy's certification."""

    certification: CertificationFacts


@dataclass(frozen=True)
class PositionFacts(CatalogStepFacts):
    """Positioning: also the blocks the candidate already holds."""

    held: tuple[HeldBlock, ...]


@dataclass(frozen=True)
class AttachingFacts(StepFacts):
    """Attaching a document: its bytes, checked and stored sealed (shared/documents.py), and its file's name
    sealed with the person's key."""

    document_id: str
    stored: Stored
    personal: str


@dataclass(frozen=True)
class ReadingFacts(StepFacts):
    """Reading a document: also the branches of the jury sessions the candidacy was presented to."""

    presented: frozenset[str]


@dataclass(frozen=True)
class OpeningFacts:
    """Opening a candidacy: the certification's facts and owners, and the person's records as the role
    table sees them (shared.policy.Record: what the caller may read the person through)."""

    certification: CertificationFacts
    owners: frozenset[str]
    seen: tuple
    today: date
    candidate: Candidate  # the person as read for `seen`: the decision works on a copy, never loads them again


@dataclass(frozen=True)
class EntrustingFacts:
    """A person entrusting their record to an organisation: whether the catalog knows it as accredited."""

    accredited: bool


@dataclass(frozen=True)
class RegistrationFacts:
    """A registration: the id chosen for the person, and their fields sealed with the key made for it."""

    candidate_id: uuid.UUID
    personal: str


@dataclass(frozen=True)
class CorrectionFacts:
    """A rectification: the person's whole data sealed anew, the names of the fields it changes, and the
    person's records as the role table sees them (what the caller reads them through)."""

    personal: str
    fields: tuple[str, ...]
    seen: tuple
    candidate: Candidate  # the person as read for `seen`: the decision works on a copy, never loads them again


@dataclass(frozen=True)
class ErasureFacts:
    """An erasure: the numbers of the certificates in force the person holds, and their records as seen."""

    certificates_held: tuple[str, ...]
    seen: tuple
    candidate: Candidate  # the person as read for `seen`: the decision works on a copy, never loads them again


def experience_months(periods: list[dict]) -> int:
    """Whole calendar months over the union of the periods: overlapping or adjoining periods count once,
    and 1 January to 30 June is six months."""
    merged: list[list[date]] = []
    for start, end in sorted((p["start"], p["end"]) for p in periods):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    total = 0
    for start, end in merged:
        after = end + timedelta(days=1)
        total += max(0, (after.year - start.year) * 12 + after.month - start.month - (after.day < start.day))
    return total


def eligibility_failures(route: str, facts: CertificationFacts, evaluator: str, experience: list[dict],
                         on: date) -> list[dict]:
    """Every reason a candidacy on this route is not eligible on this day (empty: eligible)."""
    failures = []
    if facts.expired(on):
        failures.append({"rule": "CertificationExpired", "end_date": str(facts.end_date)})
    if evaluator not in facts.accredited_evaluators:
        failures.append({"rule": "EvaluatorNotAccredited", "organisation_id": evaluator})
    if facts.current_version is None:
        failures.append({"rule": "NoReferentialVersion"})
    if route == Route.VAE:
        if facts.registry != Registry.RNCP:
            failures.append({"rule": "VaeNeedsRncpRegistration", "registry": facts.registry})
        elif not rules.vae_route_open(facts.registry, facts.routes):
            failures.append({"rule": "VaeRouteNotOpen"})
        if facts.current_version is not None:
            needed = facts.versions[facts.current_version]["settings"]["vae_min_experience_months"]
            if (declared := experience_months(experience)) < needed:
                failures.append({"rule": "NotEnoughExperience", "needed_months": needed, "declared_months": declared})
    return failures


def check_periods(periods: list[dict]) -> None:
    for period in periods:
        if period["end"] < period["start"]:
            raise InvalidInput("an experience period ends after it starts", period=str(period))
        if period["kind"] not in EXPERIENCE_KINDS:
            raise InvalidInput(f"an experience is one of {', '.join(EXPERIENCE_KINDS)}", kind=period["kind"])


# --- aggregates ----------------------------------------------------------------------------------


class CandidateErased(Conflict):
    """The candidate was erased: nothing is recorded about them any more."""


class HolderRecordsKept(CommandRefused):
    """Erasure refused: the person holds a certificate, and the certifier must keep its holders' records."""


class CandidacyStillOpen(Conflict):
    """Erasure refused while a candidacy of the person is under way (withdraw it first)."""


class Candidate(Aggregate):
    """A person seeking a certification.

    Personal data (names, email, phone, birth date, civil registry data) reaches this aggregate already
    sealed with the person's own key (shared/personal.py): the events hold ciphertext only. A correction
    records the new sealed data; an erasure records that the person is erased, and the service destroys
    their key, so no replay can show them again."""

    @event("Registered")
    def __init__(self, personal: str, status: str, employer_id: str | None, account: str | None = None,
                 registered_by: str | None = None, invited_account: str | None = None):
        self.personal: str | None = personal
        # The candidate's login at the identity provider: what lets them see and act on their own record.
        # Since the person rule, registration only names it (`invited_account`): it takes effect once the
        # person, signed in as that login, confirms it (`account` set at registration: earlier records).
        self.account = account
        self.invited_account = invited_account
        self.registered_by = registered_by  # the organisation that registered them (role table: registered)
        self.entrusted: set[str] = set()  # organisations the person, or a transfer, entrusted them to
        self.status = status
        self.employer_id = employer_id
        self.open_candidacies: dict[str, str] = {}  # certification code → candidacy id
        self.candidacies: list[str] = []  # every candidacy, ended or not
        self.erased = False

    @classmethod
    def register(cls, candidate_id: uuid.UUID, personal: str, status: str, employer_id: str | None,
                 account: str | None, registered_by: str) -> Candidate:
        """`candidate_id`: chosen before, as the person's key is made for it before their data is sealed."""
        if status not in STATUSES:
            raise InvalidInput(f"a candidate's status is one of {', '.join(STATUSES)}", status=status)
        return cls._create(cls.Registered, id=candidate_id, personal=personal, status=CandidateStatus(status),
                           employer_id=employer_id, account=None, invited_account=account,
                           registered_by=registered_by)

    def organisations(self) -> frozenset[str]:
        """The organisations with a right over the person: the one that registered them, and those the person
        (or a transfer by an organisation holding that right) entrusted them to."""
        return frozenset({self.registered_by} - {None}) | frozenset(self.entrusted)

    def check_entrusted_to(self, organisation_id: str | None) -> None:
        """An organisation acts on a person only where it already has a right over them (`organisations`).
        A right is never gained by acting on the person (opening a candidacy for them, for instance)."""
        if organisation_id is None or organisation_id not in self.organisations():
            raise Forbidden("your organisation has no right over this person: only an organisation that registered "
                            "them or that they entrusted their record to may open a candidacy for them",
                            operation="open-candidacy",
                            missing=["registered: the candidate was registered by, or entrusted to, your organisation"])

    def confirm_account(self, login: str) -> None:
        """The person, signed in as the login the registering organisation named, confirms that the record is
        theirs: only then does that login see and act on it (a claim of one's own record)."""
        self.check_not_erased()
        if self.account == login:
            return  # confirmed already: nothing changes
        if self.invited_account != login:
            raise Forbidden("this record does not name your login: the organisation that registered you names it "
                            "at registration, then you confirm it", operation="confirm-account")
        self._account_confirmed(account=login)

    @event("AccountConfirmed")
    def _account_confirmed(self, account: str) -> None:
        self.account = account
        self.invited_account = None

    def entrust(self, organisation_id: str, accredited: bool) -> None:
        """The person, signed in, links their record to an organisation the catalog knows (accredited)."""
        if not accredited:
            raise UnknownOrganisation("no such accredited organisation", organisation_id=organisation_id)
        self.hand_on(organisation_id, by="person")

    def hand_on(self, organisation_id: str, by: str) -> None:
        """`by`: "person" (the person links their record to the organisation) or "transfer" (the organisation
        holding their candidacy and a right over them hands it on with the candidacy)."""
        self.check_not_erased()
        if organisation_id not in self.organisations():
            self._entrusted(organisation_id=organisation_id, by=by)

    @event("Entrusted")
    def _entrusted(self, organisation_id: str, by: str) -> None:
        self.entrusted.add(organisation_id)

    def check_not_erased(self) -> None:
        if self.erased:
            raise CandidateErased("this candidate was erased", candidate_id=str(self.id))

    def check_no_open_candidacy(self, certification: str) -> None:
        self.check_not_erased()
        if certification in self.open_candidacies:
            # Not its id: the open candidacy may be another organisation's, which the caller may not read.
            raise CandidacyAlreadyOpen("this candidate already has an open candidacy for this certification",
                                       certification=certification)

    @event("CandidacyStarted")
    def candidacy_started(self, certification: str, candidacy_id: str) -> None:
        self.open_candidacies[certification] = candidacy_id
        self.candidacies.append(candidacy_id)

    @event("CandidacyEnded")
    def candidacy_ended(self, certification: str, candidacy_id: str) -> None:
        self.open_candidacies.pop(certification, None)

    # --- rectification and erasure (personal data life cycle) ---

    def correct(self, personal: str, fields: list[str]) -> None:
        """`personal`: the whole sealed data as corrected; `fields`: the names of those that changed."""
        self.check_not_erased()
        if not fields:
            raise InvalidInput("a correction changes at least one field")
        self._corrected(personal=personal, fields=sorted(fields))

    @event("Corrected")
    def _corrected(self, personal: str, fields: list[str]) -> None:
        self.personal = personal

    def erase(self, certificates_held: list[str]) -> None:
        """Erasure on the person's request. The certifier's legal duty to keep its holders' records (the
        declaration of holders to the Caisse des Dépôts, and the certificate's verification) outweighs it:
        a holder of a certificate in force is not erased."""
        self.check_not_erased()
        if certificates_held:
            raise HolderRecordsKept(
                "the person holds a certificate: the certifier must keep its holders' records (declaration to "
                "the Caisse des Dépôts, SI CPF; verification of the certificate), so they cannot be erased",
                certificates=sorted(certificates_held), legal_basis="RGPD art. 17(3)(b): legal obligation")
        if self.open_candidacies:
            raise CandidacyStillOpen("the person has a candidacy under way: withdraw it before erasing them",
                                     certifications=sorted(self.open_candidacies))
        self._erased()

    @event("Erased")
    def _erased(self) -> None:
        self.personal = None
        self.erased = True


def admissibility_status(admissible: bool) -> AdmissibilityStatus:
    return AdmissibilityStatus.ADMISSIBLE if admissible else AdmissibilityStatus.INADMISSIBLE


class Candidacy(Aggregate):
    """One candidate seeking one certification, under the référentiel version in force at opening."""

    @event("Opened")
    def __init__(self, candidate_id: str, certification: str, version: int, route: str, blocks: list[str],
                 evaluator_id: str, trainer_id: str | None, employer_id: str | None, experience: list[dict]):
        self.candidate_id = candidate_id
        self.certification = certification
        self.route = route
        self.evaluator_id = evaluator_id
        self.trainer_id = trainer_id
        self.employer_id = employer_id
        self.experience = experience
        self.status = CandidacyStatus.OPEN
        self.blocks = {code: {"state": BlockState.PENDING} for code in blocks}
        self.fundings: dict[str, dict] = {}
        self.documents: dict[str, dict] = {}  # document id → what DocumentAttached recorded, and superseded_by

    @classmethod
    def open(cls, candidate: Candidate, request: OpenCandidacy, facts: OpeningFacts) -> Candidacy:
        """The candidacy `request` asks for, eligible on the facts of the day; the candidate's employer unless
        the request names another."""
        route, evaluator_id, target_blocks = request.route, request.evaluator_id, request.blocks
        experience = [period.model_dump() for period in request.experience]
        on, facts = facts.today, facts.certification
        if route not in ROUTES:
            raise InvalidInput(f"a route is one of {', '.join(ROUTES)}", route=route)
        check_periods(experience)
        candidate.check_no_open_candidacy(facts.code)
        if failures := eligibility_failures(route, facts, evaluator_id, experience, on):
            raise NotEligible("the candidacy is not eligible", failures=failures)
        version_blocks = [b["code"] for b in facts.versions[facts.current_version]["blocks"]]
        if unknown := sorted(set(target_blocks) - set(version_blocks)):
            raise InvalidInput("these blocks are not in the certification's current version", blocks=unknown)
        if target_blocks and route != Route.VAE:
            raise InvalidInput("only a VAE candidacy may target some blocks of the certification")
        candidacy = cls(candidate_id=str(candidate.id), certification=facts.code, version=facts.current_version,
                        route=Route(route),
                        blocks=[b for b in version_blocks if not target_blocks or b in target_blocks],
                        evaluator_id=evaluator_id, trainer_id=request.trainer_id,
                        employer_id=request.employer_id or candidate.employer_id, experience=experience)
        candidate.candidacy_started(certification=facts.code, candidacy_id=str(candidacy.id))
        return candidacy

    # --- states ---

    def check_in(self, allowed: tuple[str, ...], step: str) -> None:
        if self.status not in allowed:
            raise TransitionRefused(f"a candidacy cannot {step} when it is {self.status}", status=self.status,
                                    allowed=list(allowed))

    LIVE = (CandidacyStatus.OPEN, CandidacyStatus.POSITIONED, CandidacyStatus.ADMISSIBILITY_FILED,
            CandidacyStatus.ADMISSIBLE, CandidacyStatus.VALIDATION_FILE_SUBMITTED)

    # --- eligibility, again, on the facts of today ---

    def check_eligibility(self, facts: CertificationFacts, on: date) -> None:
        self.check_in(self.LIVE, "be checked for eligibility")
        if failures := eligibility_failures(self.route, facts, self.evaluator_id, self.experience, on):
            raise NotEligible("the candidacy is not eligible", failures=failures)
        self._eligibility_confirmed(on=on)

    @event("EligibilityConfirmed")
    def _eligibility_confirmed(self, on: date) -> None:
        pass

    def declare_experience(self, periods: list[dict]) -> None:
        self.check_in(self.LIVE, "declare experience")
        check_periods(periods)
        self._experience_declared(periods=periods)

    @event("ExperienceDeclared")
    def _experience_declared(self, periods: list[dict]) -> None:
        self.experience = periods

    # --- positioning and path ---

    def position(self, facts: CertificationFacts, held: list[HeldBlock], on: date) -> dict[str, str]:
        """Each block: already HELD (validated earlier, still valid), RECOGNISED through an equivalence
        with a block held elsewhere, or TO_ACQUIRE."""
        self.check_in((CandidacyStatus.OPEN, CandidacyStatus.POSITIONED), "be positioned")
        valid = [h for h in held if h.valid_until is None or h.valid_until >= on]
        states = {}
        for code in self.blocks:
            if any(h.certification == self.certification and h.block == code for h in valid):
                states[code] = BlockState.HELD
            elif self._recognised(code, facts.equivalences, valid):
                states[code] = BlockState.RECOGNISED
            else:
                states[code] = BlockState.TO_ACQUIRE
        self._positioned(blocks=states)
        return states

    def _recognised(self, code: str, equivalences: list[dict], held: list[HeldBlock]) -> bool:
        held_by_cert = {(h.certification, h.block) for h in held}
        for e in equivalences:
            if code in e["blocks"] and e["target_blocks"] and all((e["target"], b) in held_by_cert
                                                                     for b in e["target_blocks"]):
                return True
        return False

    @event("Positioned")
    def _positioned(self, blocks: dict[str, str]) -> None:
        for code, state in blocks.items():
            self.blocks[code] = {"state": state}
        self.status = CandidacyStatus.POSITIONED  # from OPEN, or again (only those may be positioned)

    def set_path(self, blocks: list[dict]) -> None:
        self.check_in((CandidacyStatus.POSITIONED, CandidacyStatus.ADMISSIBLE,
                       CandidacyStatus.VALIDATION_FILE_SUBMITTED), "have its path set")
        to_acquire = {c for c, b in self.blocks.items() if b["state"] == BlockState.TO_ACQUIRE}
        if stray := sorted({b["block"] for b in blocks} - to_acquire):
            raise InvalidInput("a path trains for blocks still to acquire", blocks=stray)
        self._path_set(blocks=blocks)

    @event("PathSet")
    def _path_set(self, blocks: list[dict]) -> None:
        pass  # no rule reads the path: recorded for the read models

    # --- funding ---

    def request_funding(self, funder: str, funder_id: str | None, amount: str) -> str:
        self.check_in(self.LIVE, "ask for funding")
        if funder not in FUNDERS:
            raise InvalidInput(f"a funder is one of {', '.join(FUNDERS)}", funder=funder)
        funding_id = str(uuid.uuid4())
        self._funding_requested(funding_id=funding_id, funder=Funder(funder), funder_id=funder_id, amount=amount)
        return funding_id

    @event("FundingRequested")
    def _funding_requested(self, funding_id: str, funder: str, funder_id: str | None, amount: str) -> None:
        self.fundings[funding_id] = {"funder": funder, "funder_id": funder_id, "amount": amount,
                                     "status": FundingStatus.REQUESTED, "granted_amount": None, "reason": None}

    def decide_funding(self, funding_id: str, granted: bool, granted_amount: str | None, reason: str | None) -> None:
        funding = self.fundings.get(funding_id)
        if funding is None:
            raise UnknownFunding("no such funding request on this candidacy", funding_id=funding_id)
        if funding["status"] != FundingStatus.REQUESTED:
            raise TransitionRefused("this funding request was already decided", status=funding["status"])
        if not granted and not reason:
            raise InvalidInput("a refused funding says why")
        self._funding_decided(funding_id=funding_id, granted=granted,
                              granted_amount=(granted_amount or funding["amount"]) if granted else None,
                              reason=reason)

    @event("FundingDecided")
    def _funding_decided(self, funding_id: str, granted: bool, granted_amount: str | None, reason: str | None) -> None:
        self.fundings[funding_id].update(status=FundingStatus.GRANTED if granted else FundingStatus.REFUSED,
                                         granted_amount=granted_amount,
                                         reason=reason)

    # --- VAE admissibility (Livret 1) and validation file (Livret 2) ---

    def file_admissibility(self) -> None:
        if self.route != Route.VAE:
            raise TransitionRefused("only a VAE candidacy files an admissibility request", route=self.route)
        self.check_in((CandidacyStatus.OPEN, CandidacyStatus.POSITIONED, CandidacyStatus.INADMISSIBLE),
                      "file an admissibility request")
        self.check_papers("file-admissibility")
        self._admissibility_filed()

    @event("AdmissibilityFiled")
    def _admissibility_filed(self) -> None:
        self.status = CandidacyStatus.ADMISSIBILITY_FILED

    def decide_admissibility(self, admissible: bool, reason: str, facts: CertificationFacts, on: date) -> None:
        self.check_in((CandidacyStatus.ADMISSIBILITY_FILED,), "be declared admissible or not")
        if admissible and (failures := eligibility_failures(self.route, facts, self.evaluator_id, self.experience, on)):
            raise NotEligible("the candidacy is no longer eligible", failures=failures)
        self._admissibility_decided(admissible=admissible, reason=reason)

    def deem_admissible(self, deadline_id: str, due_on: date) -> None:
        """Silence past the answer's delay is acceptance, where the branch says so: recorded with its deadline."""
        self.check_in((CandidacyStatus.ADMISSIBILITY_FILED,), "be deemed admissible")
        self._admissibility_decided(admissible=True, deemed=deadline_id,
                                    reason=f"réputée recevable : pas de réponse au {due_on:%d/%m/%Y}")

    @event("AdmissibilityDecided")
    def _admissibility_decided(self, admissible: bool, reason: str, deemed: str | None = None) -> None:
        self.status = CandidacyStatus.ADMISSIBLE if admissible else CandidacyStatus.INADMISSIBLE

    def submit_validation_file(self) -> None:
        self.check_in((CandidacyStatus.ADMISSIBLE,), "submit its validation file")
        self.check_papers("submit-validation-file")
        self._validation_file_submitted()

    @event("ValidationFileSubmitted")
    def _validation_file_submitted(self) -> None:
        self.status = CandidacyStatus.VALIDATION_FILE_SUBMITTED

    # --- papers (shared/documents.py: the rules of each kind; the bytes are sealed in the object store) ---

    def current_documents(self, kind: DocumentKind | None = None) -> list[str]:
        return [i for i, d in self.documents.items()
                if not d.get("superseded_by") and not d.get("purged") and kind in (None, d["kind"])]

    def check_papers(self, step: str) -> None:
        if missing := [kind for kind in STEP_PAPERS.get(step, ()) if not self.current_documents(kind)]:
            raise DocumentMissing(f"the step {step} needs {', '.join(missing)}: attach it first", step=step,
                                  missing=missing)

    def attach_document(self, kind: DocumentKind, facts: AttachingFacts, supersedes: str | None) -> int:
        """Records the document (its bytes already stored sealed); answers its version."""
        self.check_in((*self.LIVE, CandidacyStatus.INADMISSIBLE), "receive a document")
        if supersedes is None and kind in HELD_ONCE and (current := self.current_documents(kind)):
            supersedes = current[0]
        version = 1
        if supersedes is not None:
            replaced = self.documents.get(supersedes)
            if replaced is None or replaced["kind"] != kind:
                raise UnknownDocument(f"no {kind} {supersedes!r} in this candidacy to supersede", kind=kind)
            if replaced.get("superseded_by"):
                raise Conflict("that document is already superseded: supersede its latest version",
                               superseded_by=replaced["superseded_by"])
            version = replaced["version"] + 1
        self._document_attached(document_id=facts.document_id, kind=kind, version=version, supersedes=supersedes,
                                object_key=facts.stored.object_key, size=facts.stored.size,
                                media_type=facts.stored.media_type, sha256=facts.stored.sha256,
                                sealed_sha256=facts.stored.sealed_sha256, personal=facts.personal)
        return version

    @event("DocumentAttached")
    def _document_attached(self, document_id: str, kind: str, version: int, supersedes: str | None, object_key: str,
                           size: int, media_type: str, sha256: str, sealed_sha256: str, personal: str) -> None:
        self.documents[document_id] = {"kind": DocumentKind(kind), "version": version, "supersedes": supersedes,
                                       "object_key": object_key, "size": size, "media_type": media_type,
                                       "sha256": sha256, "sealed_sha256": sealed_sha256, "personal": personal}
        if supersedes is not None:
            self.documents[supersedes]["superseded_by"] = document_id

    def document(self, document_id: str) -> dict:
        found = self.documents.get(document_id)
        if found is None:
            raise UnknownDocument("no such document", document_id=document_id)
        return found

    def read_document(self, document_id: str) -> dict:
        """Records who read the document (the audit trail's): what the reader then serves."""
        found = self.document(document_id)
        if found.get("purged"):
            raise UnknownDocument("the document was purged at the end of its keeping period", document_id=document_id)
        self._document_read(document_id=document_id)
        return found

    @event("DocumentRead")
    def _document_read(self, document_id: str) -> None:
        pass

    # --- lifecycle ---

    def withdraw(self, candidate: Candidate, reason: str) -> None:
        self.check_in((*self.LIVE, CandidacyStatus.INADMISSIBLE), "be withdrawn")
        self._withdrawn(reason=reason)
        candidate.candidacy_ended(certification=self.certification, candidacy_id=str(self.id))

    @event("Withdrawn")
    def _withdrawn(self, reason: str) -> None:
        self.status = CandidacyStatus.WITHDRAWN

    def transfer(self, candidate: Candidate, facts: CertificationFacts, evaluator_id: str, reason: str,
                 by: str | None) -> None:
        """`by`: the organisation moving the candidacy. The person goes with it only when that organisation
        holds the candidacy and itself has a right over them: a right is handed on by who holds it, never
        gained by acting (a branch moving a candidacy gives the new centre the candidacy, not the person)."""
        hands_on = by == self.evaluator_id and by in candidate.organisations()
        self._move_to(facts, evaluator_id, reason)
        if hands_on:
            candidate.hand_on(evaluator_id, by="transfer")

    def _move_to(self, facts: CertificationFacts, evaluator_id: str, reason: str) -> None:
        self.check_in(self.LIVE, "be transferred")
        if evaluator_id == self.evaluator_id:
            raise InvalidInput("the candidacy is already with this organisation")
        if evaluator_id not in facts.accredited_evaluators:
            raise NotEligible("the new organisation is not accredited for this certification",
                              failures=[{"rule": "EvaluatorNotAccredited", "organisation_id": evaluator_id}])
        self._transferred(from_id=self.evaluator_id, to_id=evaluator_id, reason=reason)

    @event("Transferred")
    def _transferred(self, from_id: str, to_id: str, reason: str) -> None:
        self.evaluator_id = to_id

    def close(self, candidate: Candidate, reason: str) -> None:
        self.check_in(self.LIVE, "be closed")
        self._closed(reason=reason)
        candidate.candidacy_ended(certification=self.certification, candidacy_id=str(self.id))

    @event("Closed")
    def _closed(self, reason: str) -> None:
        self.status = CandidacyStatus.CLOSED

    @property
    def awarded(self) -> bool:
        """A candidacy is closed only on the jury's full award (services/candidacy/jury_events.py)."""
        return self.status == CandidacyStatus.CLOSED

    # --- the end of a document's keeping period (`cqp documents purge`) ---

    def purge_document(self, document_id: str, kept_until: date, facts: PurgingFacts) -> str:
        """Records that the document's keeping period has ended (its object is then deleted, the history keeps
        its facts); answers its object's key. Due when shared.documents.purge_day(kind, the day it was attached)
        is on or before `kept_until`, a day that has come (never after the facts' day)."""
        found = self.document(document_id)
        check_purge(found, document_id, kept_until, facts.today, facts.attached_on)
        self._document_purged(document_id=document_id, kept_until=kept_until.isoformat())
        return found["object_key"]

    @event("DocumentPurged")
    def _document_purged(self, document_id: str, kept_until: str) -> None:
        self.documents[document_id]["purged"] = True


@dataclass(frozen=True)
class PurgingFacts(StepFacts):
    """Purging a document: also the day its DocumentAttached was recorded (the event's own timestamp)."""

    attached_on: date | None  # None: no such document (refused as such, once the caller is authorized)

