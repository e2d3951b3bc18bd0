"""The PDF of a certificate or of a block attestation, from plain data and a per-branch template.

Renderer: fpdf2 (2.8.9). It is a pure wheel (with fontTools, Pillow and defusedxml, all wheels), so
every process and `cqp` render without Debian's Pango/Cairo stack that WeasyPrint needs; it renders a
page in milliseconds; its FlexTemplate takes the layout as data (a list of elements with positions,
fonts, sizes, colours), which is what a branch changes without code; it embeds files (PDF/A-3
Associated Files) and enforces PDF/A itself. ReportLab is also a pure wheel but its PDF/A is in the paid
ReportLab PLUS, and its templates are code (canvas calls or RML). HTML/CSS templates (WeasyPrint) would
be friendlier to designers; nothing here needs them for a one-page certificate.

PDF/A: the document is produced under fpdf2's `enforce_compliance="PDF/A-3B"`: every font embedded
(subset TrueType: DejaVu, from Debian's fonts-dejavu-core, or the files a template names), an sRGB
output intent, XMP metadata with pdfaid part 3 conformance B, no core fonts, no encryption; the attached
credential is a PDF/A-3 Associated File (AFRelationship Alternative). It was not run through veraPDF
here (no validator package on PyPI): "PDF/A-3B as fpdf2 enforces it". The seal (seal.py) adds an
incremental update with a signature field, which PDF/A-3 allows.

Speed: parsing and subsetting the full DejaVu fonts (6,000 glyphs) was 60% of a page's 100 ms; a
document whose texts stay within European scripts (COVERAGE) is drawn with copies of the fonts cut
down to them once per process (in a temporary folder removed at exit), about 45 ms a page; any other
character falls back to the full fonts.

A template is a JSON document (templates/default.json is the default):

    {"name": ..., "page": {"format": "A4", "orientation": "L"},
     "fonts": {"sans": {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}, ...},
     "font_dirs": ["/usr/share/fonts/truetype/dejavu"],
     "documents": {"certificate": {"title": ..., "elements": [...]}, "attestation": {...}}}

Elements are fpdf2 FlexTemplate elements (type T text, B box, L line, E ellipse, I image; x1/y1/x2/y2
in mm; for a multiline text y2 - y1 is the line height), plus type QR: a QR code of its text drawn as
vector squares in the box. Colours may be written "#RRGGBB". Any `{field}` in a text is filled from the
document (see `fields`); French labels come first, English second, in the template's own texts.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import segno
from fpdf import FPDF
from fpdf.template import FlexTemplate

Kind = Literal["certificate", "attestation"]
TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Block:
    """A block of competences as it is certified: code (e.g. RNCP37869BC01), title, validity."""

    code: str
    title: str
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None  # None: no end


@dataclass(frozen=True)
class Certification:
    code: str  # the branch's code, e.g. "CQPM 0123"
    title: str
    registration: str  # "RNCP37869" or "RS5678"
    registry: str  # "RNCP" or "RS"
    level: str | None = None  # the national framework's level (RNCP), e.g. "4"


@dataclass(frozen=True)
class CertificateDocument:
    kind: Kind
    branch: str
    branch_name: str
    certification: Certification
    given_names: str
    family_name: str
    blocks: tuple[Block, ...]
    decided_on: dt.date
    session: str
    number: str
    verification_url: str


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (e.g. the credential, "credential.jwt", application/vc+jwt)."""

    name: str
    data: bytes
    mime_type: str
    description: str = ""
    relationship: str = "Alternative"  # PDF/A-3 AFRelationship


@dataclass(frozen=True)
class Template:
    name: str
    page: Mapping[str, Any]
    fonts: Mapping[str, Mapping[str, str]]
    font_dirs: tuple[str, ...]
    documents: Mapping[str, Mapping[str, Any]]
    base: Path | None = field(default=None, compare=False)

    @classmethod
    def from_json(cls, text: str | bytes, base: Path | None = None) -> "Template":
        data = json.loads(text)
        for kind in ("certificate", "attestation"):
            if kind not in data.get("documents", {}):
                raise ValueError(f"template {data.get('name')!r} has no {kind!r} document")
        return cls(name=data["name"], page=data.get("page", {}), fonts=data["fonts"],
                   font_dirs=tuple(data.get("font_dirs", ())), documents=data["documents"], base=base)

    @classmethod
    def load(cls, path: Path | str) -> "Template":
        path = Path(path)
        return cls.from_json(path.read_text(encoding="utf-8"), base=path.parent)

    def font_file(self, name: str) -> Path:
        candidates = [Path(name)] if Path(name).is_absolute() else \
            [d / name for d in ([self.base] if self.base else []) + [Path(d) for d in self.font_dirs]]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"template {self.name!r}: font {name!r} not found in {[str(c) for c in candidates]}"
                                " (Debian: apt-get install fonts-dejavu-core)")


def default_template() -> Template:
    return _DEFAULT


_DEFAULT = Template.load(TEMPLATES / "default.json")


def _fr(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _validity(block: Block) -> str:
    """Its validity, French then English: validated on a day (until its end, or without one), or held before."""
    if block.valid_from is None:  # held or recognised at positioning: no day of its own
        return "acquis au positionnement / held at positioning"
    if block.valid_until is None:
        return (f"validé le {_fr(block.valid_from)}, sans limite de durée / validated on "
                f"{block.valid_from.isoformat()}, no expiry")
    return (f"validé le {_fr(block.valid_from)}, valable jusqu'au {_fr(block.valid_until)} / validated on "
            f"{block.valid_from.isoformat()}, valid until {block.valid_until.isoformat()}")


def fields(document: CertificateDocument) -> dict[str, str]:
    """The values a template's `{field}` placeholders take."""
    c = document.certification
    return {
        "branch": document.branch,
        "branch_name": document.branch_name,
        "certification_code": c.code,
        "certification_title": c.title,
        "registration": c.registration,
        "registry": c.registry,
        "level": c.level or "",
        "level_fr": f"niveau {c.level}" if c.level else "sans niveau",
        "level_en": f"level {c.level}" if c.level else "no level",
        "given_names": document.given_names,
        "family_name": document.family_name,
        "holder_name": f"{document.given_names} {document.family_name.upper()}",
        "blocks": "\n".join(f"{b.code} · {b.title} · {_validity(b)}" for b in document.blocks),
        "decided_on_fr": _fr(document.decided_on),
        "decided_on_en": document.decided_on.isoformat(),
        "session": document.session,
        "number": document.number,
        "verification_url": document.verification_url,
    }


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"template field {{{key}}} is not one of {sorted(self)}")


def _colour(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("#") and len(value) == 7:
        return int(value[1:], 16)
    return value


def _qr(pdf: FPDF, text: str, x1: float, y1: float, x2: float, y2: float, colour: int) -> None:
    """The QR code of `text` as vector squares filling the box (quiet zone of 4 modules included)."""
    matrix = segno.make(text, error="m", micro=False).matrix
    border = 4
    n = len(matrix) + 2 * border
    module = min(x2 - x1, y2 - y1) / n
    pdf.set_fill_color((colour >> 16) & 255, (colour >> 8) & 255, colour & 255)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x1 + (start + border) * module, y1 + (r + border) * module,
                         (c - start) * module, module, style="F")
            else:
                c += 1


# The characters of European names and labels: Latin (with Extended-A/B and Additional), Greek, Cyrillic,
# general punctuation, currency and letterlike symbols. A document whose texts stay within them is drawn
# with fonts cut down to them once per process (about 1,500 glyphs instead of 6,000: parsing and
# subsetting the full DejaVu fonts was 60% of a page's time); any other character, the full fonts.
COVERAGE = frozenset(c for a, b in ((0x0A, 0x0A), (0x20, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF),
                                    (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F))
                     for c in range(a, b + 1))
_REDUCED: dict[Path, Path] = {}
_REDUCED_LOCK = threading.Lock()


def _reduced(path: Path) -> Path:
    """The font cut down to COVERAGE, in a temporary folder of this process (removed at exit)."""
    with _REDUCED_LOCK:
        if path not in _REDUCED:
            from fontTools import subset, ttLib

            folder = _reduced_folder()
            font = ttLib.TTFont(path, recalcTimestamp=False)
            options = subset.Options()
            options.notdef_outline = True
            options.name_IDs, options.name_languages, options.layout_features = ["*"], ["*"], ["*"]
            options.glyph_names = True
            quiet = logging.getLogger("fontTools.subset")
            level, quiet.level = quiet.level, logging.ERROR
            try:
                subsetter = subset.Subsetter(options)
                subsetter.populate(unicodes=sorted(COVERAGE))
                subsetter.subset(font)
            finally:
                quiet.setLevel(level)
            target = folder / f"{len(_REDUCED)}-{path.name}"
            font.save(target)
            _REDUCED[path] = target
        return _REDUCED[path]


_FOLDER: list[Path] = []


def _reduced_folder() -> Path:
    if not _FOLDER:
        folder = Path(tempfile.mkdtemp(prefix="cqp-fonts-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _FOLDER.append(folder)
    return _FOLDER[0]


def render(document: CertificateDocument, template: Template | None = None,
           attachments: Sequence[Attachment] = ()) -> bytes:
    """The PDF/A-3B bytes of `document` laid out by `template` (the default one when None)."""
    template = template or _DEFAULT
    layout = template.documents[document.kind]
    values = _Fields(fields(document))
    elements = []
    for element in layout["elements"]:
        element = {k: _colour(v) for k, v in element.items()}
        if "text" in element and isinstance(element["text"], str):
            element["text"] = element["text"].format_map(values)
        elements.append(element)
    title = layout.get("title", "{certification_code} {number}").format_map(values)
    used = {ord(ch) for e in elements if e["type"].upper() != "QR" for ch in e.get("text") or ""}
    reduce = used <= COVERAGE

    pdf = FPDF(orientation=template.page.get("orientation", "L"), unit="mm",
               format=template.page.get("format", "A4"), enforce_compliance="PDF/A-3B")
    pdf.set_auto_page_break(False)
    for family, styles in template.fonts.items():
        for style, filename in styles.items():
            path = template.font_file(filename)
            pdf.add_font(family, style, str(_reduced(path) if reduce else path))
    when = dt.datetime.combine(document.decided_on, dt.time(12), tzinfo=dt.timezone.utc)
    pdf.set_creation_date(when)
    pdf.set_lang("fr-FR")
    pdf.set_title(title)
    pdf.set_author(document.branch_name)
    pdf.set_subject(f"{document.certification.code} {document.certification.title}")
    pdf.set_creator("CQP platform")
    pdf.set_producer("CQP platform (fpdf2)")
    pdf.add_page()

    flex, qrs = [], []
    for element in elements:
        (qrs if element["type"].upper() == "QR" else flex).append(element)
    FlexTemplate(pdf, elements=flex).render()
    for element in qrs:
        _qr(pdf, element["text"], element["x1"], element["y1"], element["x2"], element["y2"],
            element.get("foreground", 0))

    for attachment in attachments:
        pdf.embed_file(bytes=attachment.data, basename=attachment.name, mime_type=attachment.mime_type,
                       desc=attachment.description, modification_date=when, creation_date=when,
                       associated_file_relationship=attachment.relationship, compress=True)
    return bytes(pdf.output())


def embedded_files(pdf_bytes: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF (its EmbeddedFiles name tree), by name: e.g. the credential."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
    found: dict[str, bytes] = {}
    names = reader.root.get("/Names")
    if names is None or "/EmbeddedFiles" not in names:
        return found

    def walk(node) -> None:
        node = node.get_object()
        if "/Names" in node:
            pairs = node["/Names"]
            for i in range(0, len(pairs), 2):
                spec = pairs[i + 1].get_object()
                found[str(pairs[i])] = spec["/EF"]["/F"].get_object().data
        for kid in node.get("/Kids", ()):
            walk(kid)

    walk(names["/EmbeddedFiles"])
    return found
