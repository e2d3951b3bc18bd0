"""The declaration of certificate holders to the Caisse des Dépôts (SI CPF, "accrochage certificateurs").

The law obliges the certifier to declare each holder within three months of the award. `cqp cdc export`
writes the XML file of every award of a branch not yet declared (pending, or rejected by the portal),
valid against the official schema (`certifications-cdc-1.1.2.xsd`, beside this file) or not written at
all, and records each award as sent in that file (`declare-holders`, on the jury service). `cqp cdc
report` reads the portal's processing report and records each passage accepted or rejected with its
messages (`record-declaration-outcome`); rejected ones go in the next file, accepted ones never again.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import xmlschema

XSD = Path(__file__).with_name("certifications-cdc-1.1.2.xsd")
NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACCESS = {  # the candidacy's route → modaliteAcces (and voieAccessVAE)
    "TRAINING": ("FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION", None),
    "VAE": ("VAE", "VAE_CLASSIQUE"),
    "DIRECT_ACCESS": ("CANDIDAT_LIBRE", None),
}
HOLDER_FIELDS = {"birth_name": "birth name", "first_names": "first names", "sex": "sex",
                 "birth_commune_insee": "birth commune (INSEE code)"}


@dataclass(frozen=True)
class Award:
    number: str
    registry: str  # RNCP or RS
    certification: str
    awarded_on: date
    route: str
    holder: dict | None  # HolderIdentity, as collected with the candidate
    birth_date: date | None
    name: str  # for the report only

    def lacking(self) -> list[str]:
        """What the declaration needs and the candidate's record lacks."""
        holder = self.holder or {}
        missing = [label for key, label in HOLDER_FIELDS.items() if not holder.get(key)]
        return missing + ([] if self.birth_date else ["birth date"])


def _element(parent: ET.Element, name: str, text: object = None, nil: bool = False) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{name}")
    if nil:
        element.set(f"{{{XSI}}}nil", "true")
    elif text is not None:
        element.text = str(text).lower() if isinstance(text, bool) else str(text)
    return element


def build(awards: list[Award], client_id: str, contract_id: str, flux_id: str, now: datetime) -> bytes:
    """The XML flow of these awards (every one complete: see `Award.lacking`)."""
    ET.register_namespace("cpf", NS)
    ET.register_namespace("xsi", XSI)
    flux = ET.Element(f"{{{NS}}}flux")
    _element(flux, "idFlux", flux_id)
    _element(flux, "horodatage", now.isoformat(timespec="seconds"))
    emetteur = _element(flux, "emetteur")
    _element(emetteur, "idClient", client_id)
    certifier = _element(_element(emetteur, "certificateurs"), "certificateur")
    _element(certifier, "idClient", client_id)
    _element(certifier, "idContrat", contract_id)
    certifications = _element(certifier, "certifications")
    for code in sorted({a.certification for a in awards}):
        mine = [a for a in awards if a.certification == code]
        certification = _element(certifications, "certification")
        _element(certification, "type", mine[0].registry)
        _element(certification, "code", code)
        _element(certification, "natureDeposant", "CERTIFICATEUR")
        passages = _element(certification, "passageCertifications")
        for award in mine:
            _passage(passages, award)
    return ET.tostring(flux, encoding="utf-8", xml_declaration=True)


def _passage(parent: ET.Element, award: Award) -> None:
    passage = _element(parent, "passageCertification")
    _element(passage, "idTechnique", award.number)
    _element(passage, "obtentionCertification", "PAR_ADMISSION")  # a jury's decision
    _element(passage, "donneeCertifiee", True)
    _element(passage, "dateDebutValidite", award.awarded_on.isoformat())
    _element(passage, "dateFinValidite", nil=True)  # a CQP is held for life
    _element(passage, "presenceNiveauLangueEuro", False)
    _element(passage, "presenceNiveauNumeriqueEuro", False)
    _element(passage, "scoring", nil=True)
    _element(passage, "mentionValidee", nil=True)
    access, vae = ACCESS[award.route]
    modalities = _element(passage, "modalitesInscription")
    _element(modalities, "modaliteAcces", access)
    if vae:
        _element(modalities, "voieAccessVAE", vae)
    holder = award.holder
    person = _element(_element(passage, "identificationTitulaire"), "titulaire")
    _element(person, "nomNaissance", holder["birth_name"])
    _element(person, "nomUsage", holder.get("usage_name"), nil=not holder.get("usage_name"))
    for n, first_name in enumerate(holder["first_names"][:3], start=1):
        _element(person, f"prenom{n}", first_name)
    _element(person, "anneeNaissance", award.birth_date.year)
    _element(person, "moisNaissance", award.birth_date.month)
    _element(person, "jourNaissance", award.birth_date.day)
    _element(person, "sexe", holder["sex"])
    commune = _element(_element(person, "codeCommuneNaissance"), "codeInseeNaissance")
    _element(commune, "codeInsee", holder["birth_commune_insee"])
    if holder.get("birth_country"):
        _element(person, "codePaysNaissance", holder["birth_country"])


@cache
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


def schema_errors(document: bytes) -> list[str]:
    """Why the document fails the official schema (empty: it is valid)."""
    return [f"{error.path}: {error.reason}" for error in schema().iter_errors(document.decode())]


def new_flux_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Outcome:
    number: str
    accepted: bool
    messages: list[str]


MESSAGE_NAMES = {"message", "messages", "libelle", "erreur", "messageerreur", "description", "motif"}


def parse_report(path: Path) -> tuple[str | None, list[Outcome]]:
    """The portal's processing report: its idFlux, and each passage OK or KO (with its messages),
    correlated by idTechnique. Namespaces and wrappers do not matter: `passagesOK` / `passagesKO`
    (or `passageOK` / `passageKO`) elements hold the passages, each with its `idTechnique`."""
    root = ET.parse(path).getroot()

    def local(element: ET.Element) -> str:
        return element.tag.rsplit("}", 1)[-1].lower()

    flux = next((e.text.strip() for e in root.iter() if local(e) == "idflux" and e.text), None)
    outcomes: dict[str, Outcome] = {}
    for group in root.iter():
        name = local(group)
        if name not in ("passagesok", "passagesko", "passageok", "passageko"):
            continue
        accepted = name.endswith("ok")
        passages = [group] if name in ("passageok", "passageko") else list(group)
        for passage in passages:
            number = next((e.text.strip() for e in passage.iter() if local(e) == "idtechnique" and e.text), None)
            if number:
                messages = [e.text.strip() for e in passage.iter() if local(e) in MESSAGE_NAMES and e.text
                            and e.text.strip()]
                outcomes[number] = Outcome(number, accepted, messages)
    if not outcomes:
        raise ValueError(f"{path}: no passage found (a processing report lists passagesOK and passagesKO)")
    return flux, list(outcomes.values())
