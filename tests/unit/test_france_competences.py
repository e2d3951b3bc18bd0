"""The France Compétences readers, on the real exports kept in /work/shared/data/france-competences."""

import shutil
import time
import tracemalloc
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path

import pytest

from shared.commands.catalog import Certifier, Correspondence, Fiche

from services.catalog.france_competences.fiche import Rejected
from services.catalog.france_competences.readers import (
    NO_STANDARD_ROW,
    ExportIncomplete,
    read_csv_export,
    read_export,
    read_xml,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "france-competences"


def data(relative: str) -> Path:
    path = DATA / relative
    assert path.exists(), f"real France Compétences test data missing: {path} (expected beside the repo, in {DATA})"
    return path


CSV_ZIP = "01_api-apprentissage_FC-csv-export-2024-02-22_CQP-Tourier/export-fiches-csv-2024-02-22.zip"
CSV_FOLDER = "01_api-apprentissage_FC-csv-export-2024-02-22_CQP-Tourier/extracted"
PARTIAL_CSV = "02_rpa-data-collector_FC-csv-export-2024-01-17"
XML = "04_mcp-rncp_FC-xml-V4.1_fixture"


def by_number(results) -> dict[str, Fiche | Rejected]:
    return {result.number: result for result in results}


@pytest.fixture(scope="module")
def csv_export() -> dict[str, Fiche | Rejected]:
    return by_number(read_csv_export(data(CSV_ZIP)))


@pytest.fixture(scope="module")
def rncp40344() -> Fiche:
    (fiche,) = read_xml(data(f"{XML}/RNCP40344_ASV_branch-cert_paritaire-jury.xml"))
    return fiche


def real_fiche_xml(number: str = "RS6232") -> str:
    """One real FICHE element, as text, taken from the RS fixture."""
    root = ET.parse(data(f"{XML}/export_fiches_RS_fixture.xml")).getroot()
    (fiche,) = [f for f in root.iterfind("FICHE") if f.findtext("NUMERO_FICHE") == number]
    return ET.tostring(fiche, encoding="unicode")


def flow(*fiches: str) -> str:
    return "<?xml version='1.0' encoding='UTF-8'?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>" + "".join(fiches) + "</FICHES>"


# ----------------------------------------------------------------------------------------------- CSV


def test_the_csv_export_yields_the_standard_rows_in_order_then_fiches_missing_from_it(csv_export):
    assert list(csv_export) == ["RNCP509", "RNCP1197", "RNCP4049", "RNCP22094", "RNCP28155", "RNCP30271",
                                "RS5000", "RNCP19468", "RS6117", "RNCP38228"]
    # RNCP38228 (successor of RNCP509) has an Ancienne_Nouvelle row but no Standard row in this trimmed export.
    assert csv_export["RNCP38228"] == Rejected(number="RNCP38228", reason=NO_STANDARD_ROW)
    assert all(isinstance(fiche, Fiche) for number, fiche in csv_export.items() if number != "RNCP38228")


def test_cqp_tourier_rncp19468_reprise_level_inactive_tab_prefixed_siret(csv_export):
    fiche = csv_export["RNCP19468"]
    assert fiche.title == "CQP Tourier"
    assert fiche.level is None  # "REPRISE"
    assert fiche.active is False
    assert fiche.end_date == date(2021, 7, 21)
    assert fiche.decision_date is None  # only Date_dernier_jo (21/07/2018) is given
    assert fiche.registration_type == "Enregistrement sur demande"
    assert fiche.certifiers == [Certifier(siret="78466840200018", name="CONFEDE. NATIONALE BOULANGERS PATISSIERS")]
    assert fiche.routes == ["FC", "CQ", "CL", "VAE"]
    assert fiche.idcc == ["3117"]
    assert fiche.blocks == []
    assert fiche.successors == ["RS6117"] and fiche.predecessors == []
    assert fiche.number.startswith("RNCP")


def test_cqp_tourier_is_replaced_by_rs6117(csv_export):
    fiche = csv_export["RS6117"]
    assert fiche.title == "CQP Tourier" and fiche.number.startswith("RS")
    assert fiche.active is True and fiche.level is None
    assert fiche.decision_date == date(2022, 9, 29)
    assert fiche.end_date == date(2025, 9, 29)
    assert [c.name for c in fiche.certifiers] == ["CONFEDE. NATIONALE BOULANGERS PATISSIERS",
                                                 "INSTITUT NATIONAL BOULANGERIE PATISSERIE"]
    assert [c.siret for c in fiche.certifiers] == ["78466840200018", "31504294500032"]
    assert fiche.routes == ["FC", "CQ", "VAE"]
    assert fiche.predecessors == ["RNCP19468"] and fiche.successors == []


def test_rncp509_has_its_six_blocks_without_competences_in_the_csv(csv_export):
    fiche = csv_export["RNCP509"]
    assert fiche.level == "NIV3" and fiche.active is False and fiche.end_date == date(2023, 8, 31)
    assert [b.code for b in fiche.blocks] == [f"RNCP509BC0{n}" for n in (5, 6, 1, 2, 3, 4)]  # file order
    assert fiche.blocks[1].title == "UG3 : Éducation physique et sportive"
    assert all(b.competences is None and b.modalities is None for b in fiche.blocks)
    assert fiche.routes == ["FI", "CA", "FC", "CQ", "CL", "VAE"]


def test_the_replacement_chain_rncp1197_to_rncp30271(csv_export):
    chain, number = [], "RNCP1197"
    while number:
        chain.append(number)
        fiche = csv_export[number]
        assert fiche.predecessors == ([chain[-2]] if len(chain) > 1 else [])
        number = fiche.successors[0] if fiche.successors else None
    assert chain == ["RNCP1197", "RNCP4049", "RNCP22094", "RNCP28155", "RNCP30271"]


def test_the_folder_of_extracted_files_reads_like_the_zip(csv_export):
    assert by_number(read_csv_export(data(CSV_FOLDER))) == csv_export


def test_a_cp1252_export_with_plain_apostrophes_reads_the_same(tmp_path, csv_export):
    for file in data(CSV_FOLDER).iterdir():
        text = file.read_text(encoding="utf-8")
        if "_Standard_" in file.name:
            (tmp_path / file.name).write_text(text, encoding="cp1252")
        elif "_VoixdAcc" in file.name:  # "d'élève" for "d’élève": still the same route
            (tmp_path / file.name).write_text(text.replace("’", "'"), encoding="cp1252")
        else:
            shutil.copy(file, tmp_path)
    assert b"\xe9" in next(tmp_path.glob("*_Standard_*")).read_bytes()  # really cp1252: é is one byte

    results = by_number(read_csv_export(tmp_path))

    assert results == csv_export
    assert results["RS5000"].title == "Exploiter la blockchain dans le développement d’applications"
    assert results["RNCP1197"].title == "Technico-commercial pour l'agro-alimentaire (Fiche incomplète)"


def test_an_unknown_access_route_label_rejects_the_fiche(tmp_path):
    shutil.copytree(data(CSV_FOLDER), tmp_path, dirs_exist_ok=True)
    routes = next(tmp_path.glob("*_VoixdAcc*"))
    routes.chmod(0o644)
    routes.write_text(routes.read_text(encoding="utf-8") + '"RS6117";"Par télépathie"\r\n', encoding="utf-8")

    results = by_number(read_csv_export(tmp_path))

    assert results["RS6117"] == Rejected(number="RS6117", reason="Si_Jury: unknown access route 'Par télépathie'")
    assert isinstance(results["RNCP19468"], Fiche)


def test_the_partial_uimm_export_without_a_standard_file_is_refused(tmp_path):
    for file in data(PARTIAL_CSV).glob("UIMM_all__*.csv"):
        shutil.copy(file, tmp_path)

    with pytest.raises(ExportIncomplete, match="Standard") as refused:
        list(read_csv_export(tmp_path))

    assert refused.value.missing == ["Standard", "VoixdAccès"]
    with pytest.raises(ExportIncomplete):
        list(read_export(data(PARTIAL_CSV)))


def test_a_folder_holding_two_exports_is_refused_rather_than_mixed(tmp_path):
    for file in data(PARTIAL_CSV).iterdir():  # the UIMM and CPNE selections of the same export
        shutil.copy(file, tmp_path)
    for kind in ("Standard", "VoixdAcc"):  # the kinds missing from it
        shutil.copy(next(data(CSV_FOLDER).glob(f"*_{kind}*")), tmp_path)

    with pytest.raises(ValueError, match="several Blocs_De_Compétences files"):
        list(read_export(tmp_path))


# ----------------------------------------------------------------------------------------------- XML


def test_rncp40344_from_the_xml_flow(rncp40344):
    fiche = rncp40344
    assert fiche.title == "Auxiliaire spécialisé vétérinaire"
    assert fiche.level == "NIV4" and fiche.active is True
    assert fiche.state == "Modifications à valider"
    assert fiche.registration_type == "Enregistrement sur demande"
    assert fiche.decision_date == date(2025, 3, 28)
    assert fiche.effect_date is None
    assert fiche.end_date == date(2028, 3, 28)
    assert fiche.delivery_deadline == date(2032, 3, 28)
    assert fiche.certifiers == [Certifier(siret="52875765100013", name="ANIMAL PRO FORMATION"),
                                Certifier(siret=None, name="SNVEL")]
    assert fiche.routes == ["CA", "CQ", "VAE"]
    assert fiche.predecessors == ["RNCP37507"] and fiche.successors == []


def test_rncp40344_blocks_carry_competences_and_modalities(rncp40344):
    blocks = rncp40344.blocks
    assert [b.code for b in blocks] == ["RNCP40344BC01", "RNCP40344BC02", "RNCP40344BC03", "RNCP40344BC04"]
    assert blocks[0].title == "Conseiller la clientèle du vétérinaire"
    assert blocks[0].competences.startswith("Accueillir un propriétaire d'animal")
    assert blocks[3].modalities.startswith("Dossier écrit et explicitation")
    assert all(b.competences and b.modalities for b in blocks)


def test_rncp40344_blocks_correspond_to_rncp37507_and_rncp37982(rncp40344):
    assert Correspondence(blocks=["RNCP40344BC01"], target_fiche="RNCP37507",
                          target_blocks=["RNCP37507BC01"]) in rncp40344.correspondences
    assert len(rncp40344.correspondences) == 8
    assert {c.target_fiche for c in rncp40344.correspondences} == {"RNCP37507", "RNCP37982"}


def test_the_rncp_and_rs_fixtures_read_entirely():
    rncp = list(read_xml(data(f"{XML}/export_fiches_RNCP_fixture.xml")))
    rs = list(read_xml(data(f"{XML}/export_fiches_RS_fixture.xml")))

    assert len(rncp) == 12 and all(isinstance(f, Fiche) for f in rncp)
    assert len(rs) == 8 and all(isinstance(f, Fiche) for f in rs)
    assert all(f.number.startswith("RS") and f.level is None for f in rs)
    assert by_number(rncp)["RNCP40344"] == next(read_xml(data(f"{XML}/RNCP40344_ASV_branch-cert_paritaire-jury.xml")))
    assert by_number(rs)["RS5000"].successors == ["RS6604"]
    assert by_number(rs)["RS6604"].predecessors == ["RS5000"]


def test_correspondences_are_groups_of_blocks_or_whole_fiches():
    fiches = by_number(read_xml(data(f"{XML}/export_fiches_RNCP_fixture.xml")))

    assert Correspondence(blocks=["RNCP36490BC01", "RNCP36490BC02", "RNCP36490BC03"], target_fiche="RNCP37778",
                          target_blocks=["RNCP37778BC01", "RNCP37778BC02"]) in fiches["RNCP36490"].correspondences
    assert Correspondence(blocks=["RNCP36490BC04"], target_fiche="RS6626") in fiches["RNCP36490"].correspondences
    # The whole fiche RNCP37674 corresponds to RNCP31114, and so does each of its blocks.
    assert fiches["RNCP37674"].correspondences == [
        Correspondence(target_fiche="RNCP31114"),
        Correspondence(blocks=["RNCP37674BC01"], target_fiche="RNCP31114", target_blocks=["RNCP31114BC01"]),
        Correspondence(blocks=["RNCP37674BC02"], target_fiche="RNCP31114", target_blocks=["RNCP31114BC02"]),
    ]


def test_a_zipped_xml_flow_is_read_through_read_export(tmp_path):
    archive = tmp_path / "export-fiches-rs-v4-1-2026-01-01.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(data(f"{XML}/export_fiches_RS_fixture.xml"), "export_fiches_RS_V4_1_2026-01-01.xml")

    assert [f.number for f in read_export(archive)] == [f.number for f in read_xml(data(f"{XML}/export_fiches_RS_fixture.xml"))]


def test_read_export_recognises_each_format():
    assert len(list(read_export(data(CSV_ZIP)))) == 10
    assert len(list(read_export(data(CSV_FOLDER)))) == 10
    assert len(list(read_export(data(f"{XML}/export_fiches_RNCP_fixture.xml")))) == 12


def test_broken_fiches_are_rejected_and_reading_goes_on(tmp_path):
    good = real_fiche_xml("RS6232")
    no_title = good.replace("RS6232", "RS90001").split("<INTITULE>")[0] + good.split("</INTITULE>")[1]
    bad_number = good.replace("<NUMERO_FICHE>RS6232<", "<NUMERO_FICHE>XYZ<")
    bad_date = good.replace("RS6232", "RS90002").replace("<DATE_DECISION>25/01/2023<", "<DATE_DECISION>2023-01-25<")
    path = tmp_path / "flow.xml"
    path.write_text(flow(good, no_title, bad_number, bad_date, good.replace("RS6232", "RS90003")), encoding="utf-8")

    results = list(read_xml(path))

    assert [type(r).__name__ for r in results] == ["Fiche", "Rejected", "Rejected", "Rejected", "Fiche"]
    assert results[1] == Rejected(number="RS90001", reason="title: missing")
    assert results[2].number == "XYZ" and results[2].reason.startswith("number: String should match pattern")
    assert results[3] == Rejected(number="RS90002", reason="DATE_DECISION: not a dd/mm/yyyy date ('2023-01-25')")
    assert results[4].number == "RS90003"


def test_the_older_plain_oui_jury_form_still_gives_routes(tmp_path):
    fiche = ET.fromstring(real_fiche_xml("RS6232"))
    for route, flag in (("FI", "Oui"), ("FC", "Non"), ("VAE", "Oui")):
        jury = fiche.find(f"SI_JURY_{route}")
        jury.clear()
        jury.text = flag
    path = tmp_path / "v3.xml"
    path.write_text(flow(ET.tostring(fiche, encoding="unicode")), encoding="utf-8")

    (read,) = read_xml(path)

    assert read.routes == ["FI", "CL", "VAE"]  # CL: still the V4 <ACTIF>Oui</ACTIF>


FICHES = 3_000  # tests/bench/bench_import.py measures 5,000 fiches end to end


def test_reading_a_large_flow_holds_one_fiche_at_a_time(tmp_path):
    fiche = real_fiche_xml("RS6232")
    path = tmp_path / "export_fiches_RS_V4_1_big.xml"
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>")
        for n in range(FICHES):
            out.write(fiche.replace("<NUMERO_FICHE>RS6232<", f"<NUMERO_FICHE>RS{100_000 + n}<"))
        out.write("</FICHES>")
    size_mb = path.stat().st_size / 1e6

    tracemalloc.start()
    started = time.perf_counter()
    try:
        numbers = {fiche.number for fiche in read_xml(path) if isinstance(fiche, Fiche)}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"\n{len(numbers)} fiches, {size_mb:.0f} MB read in {time.perf_counter() - started:.1f} s (traced), "
          f"peak {peak / 1e6:.1f} MB")

    assert numbers == {f"RS{100_000 + n}" for n in range(FICHES)}
    assert size_mb > 15
    # Holding the parsed tree would take about 5 times the file's size; one fiche at a time, a few MB.
    assert peak < 4e6, f"reading held {peak / 1e6:.1f} MB of a {size_mb:.0f} MB file"
