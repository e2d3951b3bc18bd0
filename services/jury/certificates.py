"""The PDF of every certificate and attestation the jury issues: on its own CertificateIssued (a subscription to
its own topic), the jury service runs `issue-certificate-document` as the one who decided (the envelope's actor),
keyed by the certificate's number (a redelivery or a restart issues nothing twice).

The facts: the branch (the session's) and its name, the certification's code, title, registration and level (the
jury's view of the catalog), the holder's given and family names (the candidacy service's public `POST
/queries/holders`: it learns the certificate through Kafka too, so it is asked again until it knows it), each
block's title and validity (the dossier's results; a block held or recognised at positioning has no dates), the
day, the session, the number and its verification link (`<public_url>/verify/<number>`).

Then, in a worker thread (about 100 ms of CPU, never on the event loop): the Open Badges credential signed with the
branch's Ed25519 key (shared/certificates/credentials.py; did:web issuer from `public_url`), the PDF with the
credential attached (pdf.py), sealed with the branch's seal (seal.py, PAdES). The PDF is stored sealed with the
candidate's jury key (like evaluation evidence: an erased candidate gets none) and recorded as the dossier's
DocumentAttached (kind CERTIFICATE_PDF) and the certificate's DocumentIssued (its SHA-256).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import uuid

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
from services.jury.domain import CertificateDocumentAlreadyIssued, CertificateDocumentFacts, Dossier
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
                await self.app.documents.discard(facts.stored.object_key)  # a replay: not recorded

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
        index = await self.issuer.status_index(fact.number, session.branch)
        award = vc.Award(
            credential_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'cqp-certificate:' + fact.number)}",
            issuer_did=signing_key.kid.split("#")[0], issuer_name=branch_name,
            achievement_id=f"{self.issuer.public_url}/certifications/{fact.certification}",
            achievement_name=f"{fact.certification} {document.certification.title}",
            achievement_description=document.certification.title,
            criteria="Décision du jury paritaire national de la branche / decision of the branch's joint jury",
            achievement_type="Certificate" if fact.kind == CertificateKind.CERTIFICATE else "Competency",
            alignments=(vc.Alignment(registration, document.certification.registry, document.certification.title,
                                     vc.france_competences_url(registration)),),
            given_names=names["given_name"], family_name=names["family_name"], person_id=fact.candidate_id,
            valid_from=dt.datetime.combine(fact.awarded_on, dt.time(0), tzinfo=dt.timezone.utc), valid_until=None,
            status=vc.StatusEntry(f"{self.issuer.public_url}/branches/{session.branch.lower()}/status/"
                                  f"{index // vc.MIN_BITS + 1}", index % vc.MIN_BITS),
            certificate_number=fact.number)
        if sealer.cert_pem not in self._signers:  # parsing the seal's key is most of a signer's cost: once per seal
            self._signers[sealer.cert_pem] = await anyio.to_thread.run_sync(
                seal.signer, sealer.key_pem, sealer.cert_pem, [root.cert_pem])
        data = await anyio.to_thread.run_sync(made, document, award, signing_key, self._signers[sealer.cert_pem])
        stored = await self.app.documents.store(DocumentKind.CERTIFICATE_PDF, data, hashlib.sha256(data).hexdigest(),
                                                fact.candidate_id, key, f"dossiers/{fact.candidacy_id}")
        return CertificateDocumentFacts(document_id=str(uuid.uuid4()), stored=stored,
                                        personal=seal_personal(key, fact.candidate_id,
                                                               {"filename": f"{fact.number}.pdf"}))


def validity(dossier: Dossier, block: str) -> tuple[dt.date | None, dt.date | None]:
    """A block validated by evaluation: from its day, until its validity ends; held or recognised: no dates."""
    result = dossier.results.get(block)
    if not result or not result["validated"]:
        return None, None
    return result["on"], result["valid_until"]


def made(document: pdf.CertificateDocument, award: vc.Award, key, signer) -> bytes:
    """The sealed PDF with its signed credential attached (CPU-bound: run in a worker thread)."""
    token = vc.sign_award(award, key)
    body = pdf.render(document, attachments=[
        pdf.Attachment("credential.jwt", token.encode(), "application/vc+jwt", "Open Badges 3.0 credential")])
    return seal.seal(body, signer, name=f"{document.branch} seal")


def subscriptions(app: JuryApplication, pool: asyncpg.Pool) -> list[Subscription]:
    return [Subscription(jury.TOPIC, Issuing(app, pool, Settings()).handle)]
