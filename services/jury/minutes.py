"""A jury session's minutes (procès-verbal): drawn up on `close-session` from the session's facts, rendered as a
PDF/A-3B with fpdf2 (the certificates' fonts and PDF/A set-up, shared/certificates/pdf.py), sealed with the
branch's seal (PAdES, shared/certificates/seal.py) and stored sealed with the session's key as its JURY_MINUTES.

What they say: the branch, the certifications examined, the day and place; the members present (those named by
its decisions) by college, against the quorum; each decision (candidacy, candidate, decision, blocks acquired,
certificate number); the president's attestation. Candidates are named by the holder's names the candidacy service
answers for a certificate number (`POST /queries/holders`, as the certificates' PDFs are); a candidacy decided
without a certificate (refusal, deferral) is listed by its candidacy's identifier only: that query answers numbers,
and no other answers a service without the caller's reach over the person.

Rendering and sealing are CPU work: in a worker thread, in the facts reader, before the decision; the object is
deleted when the decision refuses (`after_closing`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

import anyio
import asyncpg
import httpx
from fpdf import FPDF

from shared import catalog_view
from shared.certificates import pdf, seal
from shared.commands.jury import CloseSession
from shared.eventstore import CommandOutcome
from shared.personal import MasterKey
from shared.personal import seal as seal_personal
from shared.policy import authorize
from shared.settings import Settings
from shared.vocabulary import College, DocumentKind

from services.jury import views
from services.jury.application import JuryApplication, session_person, session_record
from services.jury.documents import Papers
from services.jury.domain import ClosingFacts, Dossier
from services.jury.issuer import Issuer
from services.jury.members import Members


@dataclass(frozen=True)
class Member:
    name: str
    college: str
    role: str


@dataclass(frozen=True)
class Line:
    candidacy_id: str
    candidate: str  # the holder's names; "" without a certificate
    certification: str
    decision: str
    blocks: tuple[str, ...]
    certificate: str  # its number; "" for none


@dataclass(frozen=True)
class MinutesDocument:
    session_id: str
    branch: str
    branch_name: str
    certifications: tuple[str, ...]  # "code · title"
    held_on: dt.date
    place: str
    members: tuple[Member, ...]  # present, in the order of their appointment
    quorum: int
    lines: tuple[Line, ...]
    president: str
    closed_on: dt.date


COLLEGE_LABELS = {College.EMPLOYER: "Collège employeurs / Employers' college",
                  College.EMPLOYEE: "Collège salariés / Employees' college"}
ROLE_LABELS = {"PRESIDENT": "président(e) / president", "VICE_PRESIDENT": "vice-président(e) / vice-president",
               "MEMBER": "membre / member"}


def render(doc: MinutesDocument) -> bytes:
    """The minutes' PDF/A-3B bytes (unsealed)."""
    template = pdf.default_template()
    out = FPDF(orientation="P", unit="mm", format="A4", enforce_compliance="PDF/A-3B")
    for family, styles in template.fonts.items():
        for style, filename in styles.items():
            out.add_font(family, style, str(template.font_file(filename)))
    out.set_creation_date(dt.datetime.combine(doc.closed_on, dt.time(12), tzinfo=dt.timezone.utc))
    out.set_lang("fr-FR")
    out.set_title(f"Procès-verbal de jury {doc.session_id} / Jury minutes")
    out.set_author(doc.branch_name)
    out.set_creator("CQP platform")
    out.set_producer("CQP platform (fpdf2)")
    out.add_page()
    width = out.epw

    def text(value: str, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        out.set_font("sans", "B" if bold else "", size)
        out.multi_cell(width, height, value, new_x="LMARGIN", new_y="NEXT")

    text(doc.branch_name, 12, True)
    text("Procès-verbal de la session du jury paritaire / Minutes of the joint jury session", 15, True, 8)
    text(f"Session {doc.session_id}")
    text(f"Le / On {doc.held_on.isoformat()} · {doc.place or 'à distance / remote'}")
    text("Certifications : " + "; ".join(doc.certifications))
    out.ln(3)
    text("Membres présents / Members present", 11, True)
    for college in (College.EMPLOYER, College.EMPLOYEE):
        present = [m for m in doc.members if m.college == college]
        text(f"{COLLEGE_LABELS[college]} ({len(present)})", 10, True)
        for member in present:
            text(f"  {member.name}, {ROLE_LABELS.get(member.role, member.role)}")
    text(f"Quorum : {len(doc.members)} présents pour {doc.quorum} requis, collèges à parité / "
         f"{len(doc.members)} present for {doc.quorum} required, colleges in equal numbers: atteint / reached")
    out.ln(3)
    text("Décisions / Decisions", 11, True)
    for line in doc.lines:
        who = line.candidate or "(sans certificat : candidature seule / no certificate: candidacy only)"
        text(f"Candidature / Candidacy {line.candidacy_id} · {who}", 9.5, True)
        blocks = ", ".join(line.blocks) or "aucun / none"
        number = f" · certificat / certificate {line.certificate}" if line.certificate else ""
        text(f"  {line.certification} · {line.decision} · blocs acquis / blocks acquired: {blocks}{number}", 9)
    if not doc.lines:
        text("Aucune / None")
    out.ln(4)
    text("Attestation", 11, True)
    text(f"Je soussigné(e), {doc.president}, président(e) du jury, atteste l'exactitude du présent procès-verbal, "
         f"clos le {doc.closed_on.isoformat()}. / I, {doc.president}, president of the jury, attest these minutes, "
         f"closed on {doc.closed_on.isoformat()}.")
    return bytes(out.output())


class Minutes:
    def __init__(self, app: JuryApplication, pool: asyncpg.Pool, papers: Papers, members: Members,
                 settings: Settings | None = None):
        self.app, self.pool, self.papers, self.members = app, pool, papers, members
        self.settings = settings or Settings()
        self._issuer: Issuer | None = None

    @property
    def issuer(self) -> Issuer:
        if self._issuer is None:  # made on first use, as the certificates' (services/jury/certificates.py)
            self._issuer = Issuer(self.pool, MasterKey(self.app.env.get("PERSONAL_DATA_KEY") or ""),
                                  self.settings.public_url)
        return self._issuer

    async def closing(self, command: CloseSession) -> ClosingFacts:
        session = await anyio.to_thread.run_sync(self.app.session, command.session_id)
        # The caller's right first: nothing rendered nor stored for whoever may not close it.
        authorize(command.operation, session_record(session))
        quorum = await self.quorum(session)
        session.check_closable(command.president, quorum)  # again in the decision, on the session as it is then
        document = await self.document(session, command.president, quorum)
        sealer, root = await self.issuer.seal(session.branch, document.branch_name)
        signer = await anyio.to_thread.run_sync(seal.signer, sealer.key_pem, sealer.cert_pem, [root.cert_pem])
        data = await anyio.to_thread.run_sync(sealed, document, signer)
        person_id = session_person(str(session.id))
        key = await self.papers.session_key(person_id)
        stored = await self.app.documents.store(DocumentKind.JURY_MINUTES, data, hashlib.sha256(data).hexdigest(),
                                                person_id, key, f"sessions/{session.id}")
        return ClosingFacts(document_id=str(uuid.uuid4()), stored=stored, quorum=quorum,
                            personal=seal_personal(key, person_id, {"filename": f"minutes-{session.id}.pdf"}))

    async def after_closing(self, command: CloseSession, facts: ClosingFacts, outcome: CommandOutcome | None) -> None:
        if outcome is None or outcome.result.get("document_id") != facts.document_id:
            await self.app.documents.discard(facts.stored.object_key)  # refused, or a replay: not recorded

    async def quorum(self, session) -> int:
        """The quorum its decisions were checked against: the largest of its certifications' current versions'."""
        quorums = []
        for code in session.certifications:
            versions = await catalog_view.versions(self.pool, code)
            quorums += [v["settings"]["jury_quorum"] for v in versions.values()]
        return max(quorums, default=2)

    async def document(self, session, president: str, quorum: int) -> MinutesDocument:
        names = (await self.members.names([str(session.id)])).get(str(session.id), {})
        rows = await self.pool.fetch("SELECT code, title FROM catalog_certifications WHERE code = ANY($1::text[])",
                                     list(session.certifications))
        titles = {r["code"]: r["title"] for r in rows}
        branch_name = await self.pool.fetchval("SELECT name FROM catalog_branches WHERE code = $1", session.branch)
        decided = {c: p["decision"] for c, p in session.presented.items() if p["decision"]}
        numbers = {}
        for candidacy_id in decided:
            dossier = await anyio.to_thread.run_sync(self.app.repository.get, Dossier.create_id(candidacy_id))
            numbers[candidacy_id] = dossier.document_in_force(str(session.id)) or ""
        holders = await self.holders([n for n in numbers.values() if n])
        lines = []
        for candidacy_id, decision in decided.items():
            facts = await views.candidacy_facts(self.pool, candidacy_id)
            number = numbers[candidacy_id]
            lines.append(Line(candidacy_id, holders.get(number, "") if number else "",
                              facts.certification if facts else "", decision["decision"],
                              tuple(decision["blocks_acquired"]), number))
        return MinutesDocument(
            session_id=str(session.id), branch=session.branch, branch_name=branch_name or session.branch,
            certifications=tuple(f"{c} · {titles.get(c, c)}" for c in session.certifications), held_on=session.on,
            place=getattr(session, "place", "") or "",
            members=tuple(Member(names.get(m, m), session.members[m]["college"], session.members[m]["role"])
                          for m in session.members_present()),
            quorum=quorum, lines=tuple(lines), president=names.get(president, president),
            closed_on=dt.date.today())

    async def holders(self, numbers: list[str]) -> dict[str, str]:
        """The holders' names the candidacy service answers for these certificates (none it does not know yet)."""
        if not numbers:
            return {}
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.post(f"{self.settings.candidacy_url}/queries/holders", json={"numbers": numbers})
            return answer.json().get("holders", {}) if answer.status_code == 200 else {}
        except (httpx.TransportError, ValueError):
            return {}


def sealed(document: MinutesDocument, signer) -> bytes:
    return seal.seal(render(document), signer, reason="Procès-verbal de jury / Jury minutes",
                     name=document.branch_name)
