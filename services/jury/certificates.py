"""The PDF of every certificate and attestation the jury issues: on its own CertificateIssued (a subscription to
its own topic), the jury service runs `issue-certificate-document` as the one who decided (the envelope's actor),
keyed by the certificate's number (a redelivery or a restart issues nothing twice).

The facts: the branch (the session's) and its name, the certification's code, title, registration and level (the
jury's view of the catalog), the holder's given and family names (the candidacy service's public `POST
/queries/holders`: it learns the certificate through Kafka too, so it is asked again until it knows it), each
block's title and validity (the dossier's results; a block held or recognised at positioning has no dates), the
day, the session, the number and its verification link (`<public_url>/verify/<number>`).

Then, in a worker thread (about 100 ms of CPU, never on the event loop): the Open Badges credentials signed with
the branch's Ed25519 key (shared/certificates/credentials.py; did:web issuer from `public_url`): a certificate's
award, and one per block validated by evaluation (`credentialed`, `credentials_of`), each with its own status
entry; the PDF with every credential attached (pdf.py: credential.jwt, credential-<block>.jwt), sealed with the
branch's seal (seal.py, PAdES). The PDF and each credential are stored sealed with the candidate's jury key (like
evaluation evidence: an erased candidate gets none) and recorded in one change: the dossier's DocumentAttached
(kinds CERTIFICATE_PDF and CREDENTIAL, each naming the certificate) and the certificate's DocumentIssued (their
SHA-256).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import uuid
from urllib.parse import quote

import anyio
import asyncpg
import httpx

from shared.certificates import credentials as vc
from shared.certificates import pdf, seal
from shared.commands.jury import IssueCertificateDocument
from shared.context import Actor, CommandContext, acting
from shared.contracts import jury
from shared.envelope import Envelope
from shared.personal import MasterKey
from shared.personal import seal as seal_personal
from shared.service import Subscription
from shared.settings import Settings
from shared.vocabulary import CertificateKind, DocumentKind

from services.jury.application import JuryApplication
from services.jury.domain import (
    CertificateDocumentAlreadyIssued, CertificateDocumentFacts, CredentialDocument, Dossier,
)
from services.jury.evaluations import CandidateErased, Evaluations
from services.jury.issuer import Issuer

logger = logging.getLogger("jury.certificates")
HOLDER_WAIT_SECONDS = 20.0


class HolderNotYetKnown(asyncio.TimeoutError):
    """The candidacy service has not learnt of the certificate yet, or did not answer: tried again (transient)."""


class Issuing:
    def __init__(self, app: JuryApplication, pool: asyncpg.Pool, settings: Settings):
        self.app, self.pool, self.settings = app, pool, settings
        self.evaluations = Evaluations(app, pool)
        self._issuer: Issuer | None = None
        self._signers: dict = {}  # seal certificate → its signer (shared/certificates/seal.py), made once

    @property
    def issuer(self) -> Issuer:
        # Made on first use: the service's parts are listed without its master key (tests/unit).
        if self._issuer is None:
            self._issuer = Issuer(self.pool, MasterKey(self.app.env.get("PERSONAL_DATA_KEY") or ""),
                                  self.settings.public_url)
        return self._issuer

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.type != "CertificateIssued":
            return
        fact = jury.REGISTRY.parse(envelope)
        actor = Actor(user_id=envelope.actor.user_id, organisation_id=envelope.actor.organisation_id,
                      role=envelope.actor.role)
        context = CommandContext(actor=actor, correlation_id=envelope.correlation_id,
                                 causation_id=f"certificate-document:{fact.number}")
        command = IssueCertificateDocument(number=fact.number)
        with acting(context):
            facts = await self.facts(fact)
            if facts is None:
                return
            try:
                outcome = await anyio.to_thread.run_sync(self.app.issue_certificate_document, command, facts)
            except CertificateDocumentAlreadyIssued:
                outcome = None
            if outcome is None or outcome.result.get("document_id") != facts.document_id:
                for object_key in [facts.stored.object_key, *(c.stored.object_key for c in facts.credentials)]:
                    await self.app.documents.discard(object_key)  # a replay: not recorded

    async def holder(self, number: str) -> dict | None:
        """The holder's names from the candidacy service, once it knows the certificate; None once erased."""
        deadline = asyncio.get_running_loop().time() + HOLDER_WAIT_SECONDS
        async with httpx.AsyncClient(timeout=10) as http:
            while True:
                try:
                    answer = await http.post(f"{self.settings.candidacy_url}/queries/holders",
                                             json={"numbers": [number]})
                    names = answer.json().get("names", {}) if answer.status_code == 200 else {}
                except (httpx.TransportError, ValueError):
                    names = {}
                if number in names:
                    return names[number]
                if asyncio.get_running_loop().time() > deadline:
                    raise HolderNotYetKnown(f"the candidacy service does not know certificate {number} yet")
                await asyncio.sleep(0.2)

    async def facts(self, fact: jury.CertificateIssued) -> CertificateDocumentFacts | None:
        certificate = await anyio.to_thread.run_sync(self.app.certificate, fact.number)
        if getattr(certificate, "document", None) is not None:
            return None  # issued already (a redelivery)
        session = await anyio.to_thread.run_sync(self.app.session, fact.session_id)
        dossier: Dossier = await anyio.to_thread.run_sync(self.app.repository.get,
                                                           Dossier.create_id(fact.candidacy_id))
        try:
            key = await self.evaluations.key(fact.candidate_id)
        except CandidateErased:
            return None  # nothing more is made about an erased candidate
        names = await self.holder(fact.number)
        if names is None:
            return None
        row = await self.pool.fetchrow(
            "SELECT k.title, k.registry, k.registration_number, k.level, v.blocks, b.name AS branch_name"
            " FROM catalog_certifications k LEFT JOIN catalog_versions v ON v.code = k.code AND v.version = $2"
            " LEFT JOIN catalog_branches b ON b.code = $3 WHERE k.code = $1",
            fact.certification, fact.version, session.branch)
        titles = {b["code"]: b["title"] for b in json.loads(row["blocks"] or "[]")} if row else {}
        blocks = tuple(pdf.Block(code, titles.get(code, code), *validity(dossier, code)) for code in fact.blocks)
        branch_name = (row and row["branch_name"]) or session.branch
        registration = (row and row["registration_number"]) or fact.certification
        document = pdf.CertificateDocument(
            kind="certificate" if fact.kind == CertificateKind.CERTIFICATE else "attestation",
            branch=session.branch, branch_name=branch_name,
            certification=pdf.Certification(fact.certification, (row and row["title"]) or fact.certification,
                                            registration, (row and row["registry"]) or "RNCP",
                                            (row and row["level"]) or None),
            given_names=names["given_name"], family_name=names["family_name"], blocks=blocks,
            decided_on=fact.awarded_on, session=fact.session_id, number=fact.number,
            verification_url=f"{self.issuer.public_url}/verify/{fact.number}")
        sealer, root = await self.issuer.seal(session.branch, branch_name)
        signing_key = await self.issuer.credential_key(session.branch)
        entries = {}
        for block in credentialed(document):
            index = await self.issuer.status_index(fact.number, session.branch, block)
            entries[block] = vc.StatusEntry(f"{self.issuer.public_url}/branches/{session.branch.lower()}/status/"
                                            f"{index // vc.MIN_BITS + 1}", index % vc.MIN_BITS)
        awards = credentials_of(document, signing_key.kid.split("#")[0], self.issuer.public_url,
                                fact.candidate_id, entries)
        if sealer.cert_pem not in self._signers:  # parsing the seal's key is most of a signer's cost: once per seal
            self._signers[sealer.cert_pem] = await anyio.to_thread.run_sync(
                seal.signer, sealer.key_pem, sealer.cert_pem, [root.cert_pem])
        data, tokens = await anyio.to_thread.run_sync(made, document, awards, signing_key,
                                                      self._signers[sealer.cert_pem])
        prefix = f"dossiers/{fact.candidacy_id}"
        stored = await self.app.documents.store(DocumentKind.CERTIFICATE_PDF, data, hashlib.sha256(data).hexdigest(),
                                                fact.candidate_id, key, prefix)
        credentials = []
        for (block, award), token in zip(awards.items(), tokens):
            body = token.encode()
            kept = await self.app.documents.store(DocumentKind.CREDENTIAL, body, hashlib.sha256(body).hexdigest(),
                                                  fact.candidate_id, key, prefix)
            credentials.append(CredentialDocument(
                document_id=str(uuid.uuid4()), stored=kept, block=block, credential_id=award.credential_id,
                achievement=award.achievement_name, valid_from=award.valid_from.date(),
                valid_until=award.valid_until.date() if award.valid_until else None,
                personal=seal_personal(key, fact.candidate_id,
                                       {"filename": f"{fact.number}-{block}.jwt" if block else f"{fact.number}.jwt"})))
        return CertificateDocumentFacts(document_id=str(uuid.uuid4()), stored=stored,
                                        personal=seal_personal(key, fact.candidate_id,
                                                               {"filename": f"{fact.number}.pdf"}),
                                        credentials=tuple(credentials))


CRITERIA = "Décision du jury paritaire national de la branche / decision of the branch's joint jury"


def credentialed(document: pdf.CertificateDocument) -> list[str]:
    """What gets a credential: the award (""), for a certificate only, and each block validated by evaluation
    (it has a day). An attestation's "award" is its blocks: a partial validation certifies nothing more than
    them, so a credential of the certification would claim what was not awarded. A block held or recognised at
    positioning has no day of its own here: no credential (the certificate's covers it)."""
    award = [""] if document.kind == "certificate" else []
    return award + [b.code for b in document.blocks if b.valid_from is not None]


def credentials_of(document: pdf.CertificateDocument, issuer_did: str, public_url: str, person_id: str,
                   entries: dict[str, vc.StatusEntry]) -> dict[str, vc.Award]:
    """The credentials of a certificate, by block ("": the award's), for the entries given (`credentialed`):
    the award's from its day without end; each block's aligned to the certification's registration and the
    block's code, from the block's day until its validity ends (none when it has none)."""
    c = document.certification
    certification = vc.Alignment(c.registration, c.registry, c.title, vc.france_competences_url(c.registration),
                                 "ceterms:Credential")
    common = dict(issuer_did=issuer_did, issuer_name=document.branch_name, criteria=CRITERIA,
                  given_names=document.given_names, family_name=document.family_name, person_id=person_id,
                  certificate_number=document.number)
    base = f"{public_url}/certifications/{quote(c.code, safe='')}"  # a branch's code may hold a space ("CQPM 0123")
    awards: dict[str, vc.Award] = {}
    if "" in entries:
        awards[""] = vc.Award(
            credential_id=vc.credential_id(document.number), achievement_id=base,
            achievement_name=f"{c.code} {c.title}", achievement_description=c.title, achievement_type="Certificate",
            alignments=(certification,), valid_from=vc.start_of(document.decided_on), valid_until=None,
            status=entries[""], **common)
    for block in document.blocks:
        if block.code not in entries or block.valid_from is None:
            continue
        code = vc.block_code(c.registration, block.code)
        awards[block.code] = vc.Award(
            credential_id=vc.credential_id(document.number, block.code),
            achievement_id=f"{base}/blocks/{code}",
            achievement_name=f"{code} {block.title}", achievement_description=f"{block.title} ({c.code} {c.title})",
            # OB 3.0's AchievementType for a block of competences: Competency.
            achievement_type="Competency",
            alignments=(certification, vc.Alignment(code, c.registry, block.title,
                                                     vc.france_competences_url(code), "ceasn:Competency")),
            valid_from=vc.start_of(block.valid_from),
            valid_until=vc.end_of(block.valid_until) if block.valid_until else None,
            status=entries[block.code], **common)
    return awards


def attachment_name(block: str) -> str:
    """Its name in the PDF (the award's credential.jwt; a block's credential-<block>.jwt)."""
    return "credential.jwt" if not block else f"credential-{block}.jwt"


def validity(dossier: Dossier, block: str) -> tuple[dt.date | None, dt.date | None]:
    """A block validated by evaluation: from its day, until its validity ends; held or recognised: no dates."""
    result = dossier.results.get(block)
    if not result or not result["validated"]:
        return None, None
    return result["on"], result["valid_until"]


def made(document: pdf.CertificateDocument, awards: dict[str, vc.Award], key, signer) -> tuple[bytes, list[str]]:
    """The sealed PDF with each signed credential attached, and the credentials (CPU-bound: a worker thread)."""
    tokens = [vc.sign_award(award, key) for award in awards.values()]
    body = pdf.render(document, attachments=[
        pdf.Attachment(attachment_name(block), token.encode(), "application/vc+jwt",
                       "Open Badges 3.0 credential" + (f" of block {block}" if block else ""))
        for block, token in zip(awards, tokens)])
    return seal.seal(body, signer, name=f"{document.branch} seal"), tokens


def subscriptions(app: JuryApplication, pool: asyncpg.Pool) -> list[Subscription]:
    return [Subscription(jury.TOPIC, Issuing(app, pool, Settings()).handle)]
