"""Catalog aggregates and their domain events: branches, organisations, certifications.

Every event records who caused it, for which organisation, and why (shared/domain.py).
"""

from __future__ import annotations

import re
import uuid
from datetime import date

from eventsourcing.domain import event

from shared import rules
from shared.contracts.catalog import BranchDeadlines  # its defaults: the law's or the usual delays
from shared.domain import Aggregate
from shared.errors import CommandRefused, Conflict, InvalidInput, NotFound
from shared.vocabulary import (
    AccreditationScope, CertificationKind, EquivalenceSource, JuryRule, OrganisationKind, Registry,
)

KINDS = tuple(CertificationKind)
REGISTRIES = tuple(Registry)
SCOPES = tuple(AccreditationScope)
ORGANISATION_KINDS = tuple(OrganisationKind)
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{1,63}$")
_IDS = uuid.UUID("2b8f0c7e-43a4-4f0e-8d47-5b7c6a1f9e10")

DEFAULT_SETTINGS = {
    "vae_min_experience_months": 12,  # DOMAIN.md: one year by default, may be zero
    "block_validity_months": None,  # None: a validated block stays acquired for life
    "jury_quorum": 2,
    "jury_rule": JuryRule.PARITAIRE,  # read by no rule yet: recorded with each version, shown in GraphQL
    "admissibility_answer_days": None,  # None: the branch's delay (services/jury/deadlines)
}


class CertificationAlreadyExists(Conflict):
    pass


class BranchAlreadyExists(Conflict):
    pass


class OrganisationAlreadyExists(Conflict):
    pass


class UnknownCertification(NotFound):
    pass


class UnknownBranch(NotFound):
    pass


class UnknownOrganisation(NotFound):
    pass


class UnknownAccreditation(NotFound):
    pass


class CqpiNeedsSeveralBranches(CommandRefused):
    pass


class BranchDoesNotOwnCertification(CommandRefused):
    pass


class CertificationExpired(CommandRefused):
    pass


class AccreditationAlreadyWithdrawn(CommandRefused):
    pass


def check_code(code: str, what: str = "code") -> None:
    if not CODE.match(code):
        raise InvalidInput(f"a {what} is 2 to 64 capitals, digits, '.', '_' or '-'", **{what: code})


class Branch(Aggregate):
    """A professional branch (e.g. UIMM), creating its CQPs through its CPNE."""

    @staticmethod
    def create_id(code: str, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"branch:{code}")

    @event("Created")
    def __init__(self, code: str, name: str, idcc: list[str], cpne: str):
        self.code = code
        self.name = name
        self.idcc = idcc
        self.cpne = cpne

    def set_deadlines(self, changes: dict) -> dict:
        """Its delays, `changes` over the current ones (the defaults at first); a reminder falls within its delay."""
        deadlines = {**BranchDeadlines().model_dump(mode="json"), **(getattr(self, "deadlines", None) or {}), **changes}
        if deadlines["admissibility_reminder_days"] >= deadlines["admissibility_answer_days"]:
            raise InvalidInput("an admissibility reminder comes before its answer's delay ends", deadlines=deadlines)
        if deadlines["declaration_reminder_days"] >= 28 * deadlines["declaration_months"]:
            raise InvalidInput("a declaration reminder comes before its delay ends", deadlines=deadlines)
        self._deadlines_set(code=self.code, deadlines=deadlines)
        return deadlines

    def set_contact(self, email: str) -> bool:
        if getattr(self, "contact", None) == email:
            return False
        self._contact_set(code=self.code, email=email)
        return True

    @event("ContactSet")
    def _contact_set(self, code: str, email: str) -> None:
        self.contact = email

    @event("DeadlinesSet")
    def _deadlines_set(self, code: str, deadlines: dict) -> None:
        self.deadlines = deadlines

    @classmethod
    def create(cls, code: str, name: str, idcc: list[str], cpne: str) -> Branch:
        check_code(code)
        if bad := [c for c in idcc if not re.fullmatch(r"\d{1,4}", c)]:
            raise InvalidInput("an IDCC code is 1 to 4 digits", idcc=bad)
        return cls(code=code, name=name, idcc=idcc, cpne=cpne)


class Organisation(Aggregate):
    """A legal entity of the field: certifier body, evaluation centre, training organisation, funder, employer."""

    @staticmethod
    def create_id(siret: str | None = None, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, f"siret:{siret}") if siret else uuid.uuid4()

    @event("Registered")
    def __init__(self, name: str, siret: str | None, kinds: list[str]):
        self.name = name
        self.siret = siret
        self.kinds = kinds
        self.accreditations: dict[str, dict] = {}

    @classmethod
    def register(cls, name: str, siret: str | None, kinds: list[str]) -> Organisation:
        if siret is not None and not re.fullmatch(r"\d{14}", siret):
            raise InvalidInput("a SIRET is 14 digits", siret=siret)
        if unknown := sorted(set(kinds) - set(ORGANISATION_KINDS)):
            raise InvalidInput(f"an organisation kind is one of {', '.join(ORGANISATION_KINDS)}", kinds=unknown)
        return cls(name=name, siret=siret, kinds=sorted(set(kinds)))

    def accredit(self, branch: Branch, certifications: list[Certification], scope: str,
                 valid_from: date, valid_until: date | None) -> str:
        if scope not in SCOPES:
            raise InvalidInput(f"an accreditation scope is one of {', '.join(SCOPES)}", scope=scope)
        if valid_until is not None and valid_until < valid_from:
            raise InvalidInput("an accreditation ends after it starts", valid_from=str(valid_from), valid_until=str(valid_until))
        for certification in certifications:
            certification.check_owned_by(branch.code)
            certification.check_in_force(valid_from)
        accreditation_id = str(uuid.uuid4())
        self._accredited(accreditation_id=accreditation_id, branch=branch.code,
                         certifications=[c.code for c in certifications], scope=scope,
                         valid_from=valid_from, valid_until=valid_until)
        return accreditation_id

    @event("Accredited")
    def _accredited(self, accreditation_id: str, branch: str, certifications: list[str], scope: str,
                    valid_from: date, valid_until: date | None) -> None:
        self.accreditations[accreditation_id] = {
            "branch": branch, "certifications": certifications, "scope": scope,
            "valid_from": valid_from, "valid_until": valid_until, "withdrawn_on": None,
        }

    def withdraw(self, accreditation_id: str, on: date, reason: str) -> None:
        accreditation = self.accreditations.get(accreditation_id)
        if accreditation is None:
            raise UnknownAccreditation("no such accreditation for this organisation", accreditation_id=accreditation_id)
        if accreditation["withdrawn_on"] is not None:
            raise AccreditationAlreadyWithdrawn("this accreditation was already withdrawn",
                                                withdrawn_on=str(accreditation["withdrawn_on"]))
        self._withdrawn(accreditation_id=accreditation_id, on=on, reason=reason)

    @event("AccreditationWithdrawn")
    def _withdrawn(self, accreditation_id: str, on: date, reason: str) -> None:
        self.accreditations[accreditation_id]["withdrawn_on"] = on


class Certification(Aggregate):
    """A CQP, CQPM or CQPI, known by its code; its référentiel is a chain of immutable versions."""

    @staticmethod
    def create_id(code: str, **_) -> uuid.UUID:
        return uuid.uuid5(_IDS, code)

    @event("Created")
    def __init__(self, code: str, kind: str, title: str, owners: list[str]):
        self.code = code
        self.kind = kind
        self.title = title
        self.owners = owners
        self.versions: list[dict] = []
        self.registration: dict | None = None
        self.certifiers: list[dict] = []
        self.predecessors: list[str] = []
        self.successors: list[str] = []
        self.equivalences: list[dict] = []

    @classmethod
    def create(cls, code: str, kind: str, title: str, owners: list[str]) -> Certification:
        check_code(code)
        if kind not in KINDS:
            raise InvalidInput(f"a certification is one of {', '.join(KINDS)}", kind=kind)
        cls.check_owners(kind, owners)
        return cls(code=code, kind=kind, title=title, owners=owners)

    @staticmethod
    def check_owners(kind: str, owners: list[str]) -> None:
        if kind == CertificationKind.CQPI and len(set(owners)) < 2:
            raise CqpiNeedsSeveralBranches("a CQPI is owned and recognised by at least two branches", owners=owners)

    def check_owned_by(self, branch: str) -> None:
        # A CQPI is recognised by each of its branches: any of them may accredit for it.
        if branch not in self.owners:
            raise BranchDoesNotOwnCertification(
                "only a branch that owns or recognises a certification may accredit for it",
                branch=branch, certification=self.code, owners=self.owners,
            )

    def is_expired(self, on: date) -> bool:
        return rules.expired(self.registration and self.registration.get("end_date"), on)

    def check_in_force(self, on: date) -> None:
        if self.is_expired(on):
            raise CertificationExpired("the certification's registration has expired", certification=self.code,
                                       end_date=str(self.registration["end_date"]))

    @property
    def current_version(self) -> dict | None:
        return self.versions[-1] if self.versions else None

    def publish_version(self, blocks: list[dict], settings: dict, effective_from: date) -> int:
        codes = [block["code"] for block in blocks]
        if duplicates := sorted({code for code in codes if codes.count(code) > 1}):
            raise InvalidInput("each block code appears once in a version", duplicates=duplicates)
        settings = {**DEFAULT_SETTINGS, **settings}
        if settings["vae_min_experience_months"] < 0 or settings["jury_quorum"] < 2:
            raise InvalidInput("VAE experience is zero or more months; a jury quorum is at least 2", settings=settings)
        number = len(self.versions) + 1
        self._version_published(code=self.code, number=number, blocks=blocks, settings=settings,
                                effective_from=effective_from)
        return number

    @event("VersionPublished")
    def _version_published(self, code: str, number: int, blocks: list[dict], settings: dict,
                           effective_from: date) -> None:
        self.versions.append({"number": number, "blocks": blocks, "settings": settings,
                              "effective_from": effective_from})

    def retitle(self, title: str) -> None:
        self._retitled(code=self.code, title=title)

    @event("Retitled")
    def _retitled(self, code: str, title: str) -> None:
        self.title = title

    def change_owners(self, owners: list[str]) -> None:
        self.check_owners(self.kind, owners)
        self._owners_changed(code=self.code, owners=owners)

    @event("OwnersChanged")
    def _owners_changed(self, code: str, owners: list[str]) -> None:
        self.owners = owners

    def record_registration(self, registration: dict) -> None:
        if registration["registry"] not in REGISTRIES:
            raise InvalidInput("a registry is RNCP or RS", registry=registration["registry"])
        self._registration_recorded(code=self.code, registration=registration)

    @event("RegistrationRecorded")
    def _registration_recorded(self, code: str, registration: dict) -> None:
        self.registration = registration

    def record_certifiers(self, certifiers: list[dict]) -> None:
        self._certifiers_recorded(code=self.code, certifiers=certifiers)

    @event("CertifiersRecorded")
    def _certifiers_recorded(self, code: str, certifiers: list[dict]) -> None:
        self.certifiers = certifiers

    def record_succession(self, predecessors: list[str], successors: list[str]) -> None:
        self._succession_recorded(code=self.code, predecessors=predecessors, successors=successors)

    @event("SuccessionRecorded")
    def _succession_recorded(self, code: str, predecessors: list[str], successors: list[str]) -> None:
        self.predecessors = predecessors
        self.successors = successors

    def declare_equivalence(self, block: str, target: Certification, target_block: str) -> None:
        """A branch's own equivalence: its block stands for a block of the target's current version."""
        if target_block not in [b["code"] for b in (target.current_version or {}).get("blocks", [])]:
            raise UnknownCertification("the target block is not in the target's current version",
                                       target=target.code, target_block=target_block)
        version = self.current_version
        if version is None or block not in [b["code"] for b in version["blocks"]]:
            raise InvalidInput("the block is not in the certification's current version", block=block)
        equivalence = {"blocks": [block], "target": target.code, "target_blocks": [target_block],
                       "source": EquivalenceSource.BRANCH}
        if equivalence in self.equivalences:
            raise Conflict("this equivalence is already declared", **equivalence)
        self._equivalences_recorded(code=self.code, equivalences=[*self.equivalences, equivalence])

    @event("EquivalencesRecorded")
    def _equivalences_recorded(self, code: str, equivalences: list[dict]) -> None:
        self.equivalences = equivalences

    def replace_equivalences_from(self, source: str, equivalences: list[dict]) -> None:
        kept = [e for e in self.equivalences if e["source"] != source]
        self._equivalences_recorded(code=self.code, equivalences=kept + equivalences)

    # --- a France Compétences fiche (shared/commands/catalog.py Fiche) ---

    @classmethod
    def from_fiche(cls, fiche: dict, owners: list[str], kind: str | None) -> Certification:
        """A certification first known from its fiche: a CQPM or CQPI says so in its title, else a CQP."""
        certification = cls.create(fiche["number"], kind or kind_from_title(fiche["title"]), fiche["title"], owners)
        certification.merge_fiche(fiche, owners)
        return certification

    def merge_fiche(self, fiche: dict, owners: list[str]) -> None:
        """Record each part of the fiche that differs from what the certification holds (nothing if none):
        title, owners added, a new version of its blocks, registration, certifiers, succession, and the
        equivalences France Compétences declares (the branches' own are kept)."""
        if fiche["title"] != self.title:
            self.retitle(fiche["title"])
        if owners and sorted(set(owners) | set(self.owners)) != sorted(self.owners):
            self.change_owners(sorted(set(owners) | set(self.owners)))
        blocks = [{"code": b["code"], "title": b["title"], "competences": b["competences"],
                   "modalities": b["modalities"]} for b in fiche["blocks"]]
        current = self.current_version
        if blocks and (current is None or current["blocks"] != blocks):
            settings = current["settings"] if current else {}
            self.publish_version(blocks, settings, fiche["effect_date"] or fiche["decision_date"] or date.today())
        registration = {
            "registry": Registry.RS if fiche["number"].startswith(Registry.RS) else Registry.RNCP,
            **{name: fiche[name] for name in ("number", "level", "active", "state", "registration_type",
                                              "decision_date", "effect_date", "end_date", "delivery_deadline",
                                              "routes")},
        }
        if self.registration != registration:
            self.record_registration(registration)
        if self.certifiers != fiche["certifiers"]:
            self.record_certifiers(fiche["certifiers"])
        if (self.predecessors, self.successors) != (fiche["predecessors"], fiche["successors"]):
            self.record_succession(fiche["predecessors"], fiche["successors"])
        source = EquivalenceSource.FRANCE_COMPETENCES
        equivalences = [{"blocks": c["blocks"], "target": c["target_fiche"], "target_blocks": c["target_blocks"],
                         "source": source} for c in fiche["correspondences"]]
        if [e for e in self.equivalences if e["source"] == source] != equivalences:
            self.replace_equivalences_from(source, equivalences)


def kind_from_title(title: str) -> CertificationKind:
    """CQPM and CQPI say so in their titles; every other imported fiche is taken as a CQP."""
    for kind in (CertificationKind.CQPM, CertificationKind.CQPI):
        if re.search(rf"\b{kind}\b", title, re.IGNORECASE):
            return kind
    return CertificationKind.CQP
