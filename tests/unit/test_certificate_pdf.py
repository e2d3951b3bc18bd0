"""The PDF of a certificate or a block attestation (shared/certificates/pdf.py): from plain data and a
per-branch template that is data, PDF/A-3B markers, the credential attached, the QR code of the URL."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO

import pytest
import segno
from pyhanko.pdf_utils.reader import PdfFileReader

from shared.certificates import pdf

URL = "https://cqp.example.fr/verify/UIMM-2026-000123"


def document(kind: pdf.Kind = "certificate", **changes) -> pdf.CertificateDocument:
    values = dict(
        kind=kind, branch="UIMM", branch_name="UIMM — Union des industries et métiers de la métallurgie",
        certification=pdf.Certification("CQPM 0123", "Technicien(ne) en maintenance industrielle", "RNCP37869",
                                        "RNCP", "4"),
        given_names="Élodie", family_name="Lefèvre",
        blocks=(pdf.Block("RNCP37869BC01", "Diagnostiquer un dysfonctionnement", dt.date(2026, 6, 12), None),
                pdf.Block("RNCP37869BC02", "Réaliser la maintenance préventive", dt.date(2026, 6, 12),
                          dt.date(2031, 6, 12))),
        decided_on=dt.date(2026, 6, 12), session="S-2026-06-UIMM-01", number="UIMM-2026-000123",
        verification_url=URL)
    values.update(changes)
    return pdf.CertificateDocument(**values)


def page_text(pdf_bytes: bytes) -> bytes:
    """The decompressed content streams (text is in glyph ids with a subset font: compare structure only)."""
    reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    return page["/Contents"].get_object().data


def test_a_certificate_is_a_pdf_a_3b_with_its_metadata():
    body = pdf.render(document())
    assert body.startswith(b"%PDF-1.7")
    reader = PdfFileReader(BytesIO(body), strict=False)
    xmp = reader.root["/Metadata"].get_object().data.decode()
    assert "Certificat CQPM 0123 UIMM-2026-000123" in xmp and "<rdf:li>UIMM — Union" in xmp
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert str(reader.root["/Lang"]) == "fr-FR"
    assert "/OutputIntents" in reader.root
    fonts = reader.root["/Pages"]["/Kids"][0].get_object()["/Resources"]["/Font"]
    for name in fonts:
        descriptor = fonts[name].get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor  # embedded: no core font in a PDF/A


def test_a_block_attestation_renders_from_its_own_layout():
    certificate = pdf.render(document("certificate"))
    attestation = pdf.render(document("attestation", blocks=document().blocks[:1]))
    xmp = PdfFileReader(BytesIO(attestation), strict=False).root["/Metadata"].get_object().data.decode()
    assert "Attestation de blocs CQPM 0123" in xmp
    assert page_text(certificate) != page_text(attestation)


def test_the_credential_is_attached_and_read_back():
    token = b"eyJhbGciOiJFZERTQSJ9.e30.sig"
    body = pdf.render(document(), attachments=[
        pdf.Attachment("credential.jwt", token, "application/vc+jwt", "Open Badges 3.0")])
    assert pdf.embedded_files(body) == {"credential.jwt": token}
    reader = PdfFileReader(BytesIO(body), strict=False)
    assert "/AF" in reader.root  # a PDF/A-3 Associated File
    assert pdf.embedded_files(pdf.render(document())) == {}


def test_the_fields_are_french_first_and_dated():
    values = pdf.fields(document())
    assert values["holder_name"] == "Élodie LEFÈVRE"
    assert values["decided_on_fr"] == "12/06/2026" and values["decided_on_en"] == "2026-06-12"
    assert values["blocks"].splitlines() == [
        "RNCP37869BC01 · Diagnostiquer un dysfonctionnement · validé le 12/06/2026, sans limite de durée / validated"
        " on 2026-06-12, no expiry",
        "RNCP37869BC02 · Réaliser la maintenance préventive · validé le 12/06/2026, valable jusqu'au 12/06/2031 /"
        " validated on 2026-06-12, valid until 2031-06-12"]
    held = pdf.fields(document(blocks=(pdf.Block("RNCP37869BC03", "Organiser", None, None),)))["blocks"]
    assert held == "RNCP37869BC03 · Organiser · acquis au positionnement / held at positioning"
    assert pdf.fields(document(certification=pdf.Certification("X", "T", "RS5678", "RS")))["level_fr"] == "sans niveau"


class Recorder:
    """Stands for FPDF in the QR drawing: keeps the squares."""

    def __init__(self):
        self.rects = []

    def set_fill_color(self, *rgb):
        pass

    def rect(self, x, y, w, h, style):
        self.rects.append((x, y, w, h))


def test_the_qr_code_drawn_is_the_verification_url():
    recorder = Recorder()
    pdf._qr(recorder, URL, 240, 150, 280, 190, 0)
    expected = segno.make(URL, error="m", micro=False).matrix
    size = len(expected)
    module = 40 / (size + 8)
    drawn = [[0] * size for _ in range(size)]
    for x, y, w, h in recorder.rects:
        row, col = round((y - 150) / module) - 4, round((x - 240) / module) - 4
        for c in range(col, col + round(w / module)):
            drawn[row][c] = 1
    assert drawn == [list(r) for r in expected]


def test_a_branch_changes_its_layout_with_data_only(tmp_path):
    default = json.loads((pdf.TEMPLATES / "default.json").read_text())
    default["name"] = "UIMM"
    heading = next(e for e in default["documents"]["certificate"]["elements"] if e["name"] == "kind_fr")
    heading["text"] = "Certificat de qualification paritaire de la métallurgie"
    heading["size"] = 18
    (tmp_path / "uimm.json").write_text(json.dumps(default))
    branch = pdf.Template.load(tmp_path / "uimm.json")
    assert page_text(pdf.render(document(), branch)) != page_text(pdf.render(document()))


def test_a_template_naming_an_unknown_field_or_lacking_a_document_is_refused():
    default = json.loads((pdf.TEMPLATES / "default.json").read_text())
    default["documents"]["certificate"]["elements"].append(
        {"name": "x", "type": "T", "x1": 0, "y1": 0, "x2": 10, "y2": 10, "font": "sans", "text": "{birth_date}"})
    with pytest.raises(KeyError, match="birth_date"):
        pdf.render(document(), pdf.Template.from_json(json.dumps(default)))
    del default["documents"]["attestation"]
    with pytest.raises(ValueError, match="attestation"):
        pdf.Template.from_json(json.dumps(default))


def test_a_missing_font_names_the_package_that_brings_it():
    default = json.loads((pdf.TEMPLATES / "default.json").read_text())
    default["fonts"]["sans"][""] = "NoSuchFont.ttf"
    with pytest.raises(FileNotFoundError, match="NoSuchFont.ttf"):
        pdf.render(document(), pdf.Template.from_json(json.dumps(default)))


def test_documents_rendered_one_after_the_other_share_no_font_subset():
    for given, family in (("Kévin", "Wxyzqj"), ("Zoë", "Ørsted"), ("Ана", "Петрова"), ("Q", "K")):
        body = pdf.render(document(given_names=given, family_name=family))
        assert body.startswith(b"%PDF")


def test_a_name_beyond_european_scripts_is_drawn_with_the_full_fonts(monkeypatch):
    from fontTools import ttLib

    assert {ord(c) for c in "Élodie Ørsted Петрова Ξένια Nguyễn"} <= pdf.COVERAGE
    full_font = pdf.default_template().font_file("DejaVuSans.ttf")
    armenian = "Անի"  # in DejaVu Sans, outside the reduced fonts
    assert ord(armenian[0]) in ttLib.TTFont(full_font).getBestCmap()
    assert ord(armenian[0]) not in ttLib.TTFont(pdf._reduced(full_font)).getBestCmap()
    reduced = []
    original = pdf._reduced
    monkeypatch.setattr(pdf, "_reduced", lambda path: reduced.append(path) or original(path))
    pdf.render(document())
    assert reduced
    reduced.clear()
    assert pdf.render(document(given_names=armenian)).startswith(b"%PDF")
    assert reduced == []


def test_an_attestations_page_lists_each_acquired_block_with_its_validity_french_first():
    from tests.pdf_text import page_lines

    text = " ".join(page_lines(pdf.render(document("attestation"))))
    assert "Attestation de blocs de compétences" in text and text.index("Attestation de blocs") < \
        text.index("Attestation of skill blocks")
    assert ("RNCP37869BC02 · Réaliser la maintenance préventive · validé le 12/06/2026, valable jusqu'au 12/06/2031 /"
            " validated on 2026-06-12, valid until 2031-06-12") in text
    assert "RNCP37869BC01 · Diagnostiquer un dysfonctionnement · validé le 12/06/2026, sans limite de durée" in text
