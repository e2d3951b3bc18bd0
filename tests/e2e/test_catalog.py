"""The catalog, end to end: real France Compétences exports imported with `cqp catalog import`,
read back and changed through GraphQL only."""

import subprocess
import sys
from pathlib import Path

import pytest_asyncio

from tests.harness import ROOT, System, eventually

DATA = ROOT.parent / "shared" / "data" / "france-competences"
CSV_ZIP = DATA / "01_api-apprentissage_FC-csv-export-2024-02-22_CQP-Tourier" / "export-fiches-csv-2024-02-22.zip"
XML_RNCP40344 = DATA / "04_mcp-rncp_FC-xml-V4.1_fixture" / "RNCP40344_ASV_branch-cert_paritaire-jury.xml"

BRANCH = """mutation($input: CreateBranchInput!, $key: String!) {
  createBranch(input: $input, idempotencyKey: $key) { __typename ... on Error { code message } } }"""
CERTIFICATION = """
fragment Certification on Certification {
  code kind title owners { code }
  registration { registry number level active decisionDate endDate deliveryDeadline routes }
  expired vaeOpen
  certifiers { siret name }
  versions { number effectiveFrom blocks { code title competences modalities } settings { vaeMinExperienceMonths blockValidityMonths } }
  blocks { code }
  predecessorCodes successorCodes predecessors { code registration { registry } } successors { code }
  equivalences { blocks target targetBlocks source }
  accreditedOrganisations { name }
}
query($code: String!) { certification(code: $code) { ...Certification } }"""


def run_import(system: System, path: Path, *options: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tools.cli", "catalog", "import", str(path), *options],
                          cwd=ROOT, env=system.importer_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def catalog():
    assert DATA.is_dir(), f"the France Compétences data is expected in {DATA}"
    system = await System.create()
    await system.start()
    for code, name, idcc in (("BOULANGERIE", "Boulangerie-pâtisserie artisanale", ["843"]),
                             ("VETERINAIRE", "Cabinets et cliniques vétérinaires", ["1875"]),
                             ("UIMM", "Métallurgie", ["3109"]), ("LEEM", "Industrie pharmaceutique", ["176"])):
        data = await system.graphql(BRANCH, {"input": {"code": code, "name": name, "idcc": idcc}, "key": code})
        assert data["createBranch"]["__typename"] == "BranchCreated"
    system.first_import = run_import(system, CSV_ZIP, "--owner", "BOULANGERIE")
    system.xml_import = run_import(system, XML_RNCP40344, "--all", "--owner", "VETERINAIRE")
    await eventually(lambda: _projected(system, "RS6117", "RNCP19468", "RNCP40344"))
    yield system
    system.stop()


async def _projected(system, *codes):
    data = await system.graphql("{ certifications(first: 100) { edges { node { code equivalences { target } } } } }")
    nodes = {e["node"]["code"]: e["node"] for e in data["certifications"]["edges"]}
    return all(code in nodes for code in codes) and nodes["RNCP40344"]["equivalences"]


async def certification(system, code):
    return (await system.graphql(CERTIFICATION, {"code": code}))["certification"]


async def test_the_import_reports_what_it_read(catalog):
    # The CSV export holds 9 fiches and one that has no Standard row; two of them are CQPs.
    assert "fiches read: 10, created: 2, updated: 0, unchanged: 0, rejected: 1" in catalog.first_import
    assert "rejected RNCP38228: no row in the Standard file" in catalog.first_import
    assert "fiches read: 1, created: 1" in catalog.xml_import


async def test_the_cqp_tourier_and_its_succession_from_the_rncp_to_the_rs(catalog):
    old = await certification(catalog, "RNCP19468")
    assert old["title"] == "CQP Tourier" and old["kind"] == "CQP"
    assert old["registration"]["level"] is None  # "REPRISE" in the export: no level
    assert old["registration"]["endDate"] == "2021-07-21" and old["expired"] and not old["vaeOpen"]
    assert old["certifiers"] == [{"siret": "78466840200018", "name": "CONFEDE. NATIONALE BOULANGERS PATISSIERS"}]
    assert old["owners"] == [{"code": "BOULANGERIE"}]
    assert old["successors"] == [{"code": "RS6117"}]
    new = await certification(catalog, "RS6117")
    assert new["registration"]["registry"] == "RS" and new["registration"]["decisionDate"] == "2022-09-29"
    assert len(new["certifiers"]) == 2
    assert new["predecessors"] == [{"code": "RNCP19468", "registration": {"registry": "RNCP"}}]


async def test_a_branch_certification_with_blocks_competences_and_two_certifiers_from_the_xml_flow(catalog):
    fiche = await certification(catalog, "RNCP40344")
    registration = fiche["registration"]
    assert (registration["level"], registration["decisionDate"], registration["endDate"],
            registration["deliveryDeadline"]) == ("NIV4", "2025-03-28", "2028-03-28", "2032-03-28")
    assert "VAE" in registration["routes"] and fiche["vaeOpen"] and not fiche["expired"]
    assert [c["name"] for c in fiche["certifiers"]] == ["ANIMAL PRO FORMATION", "SNVEL"]
    (version,) = fiche["versions"]
    assert [b["code"] for b in version["blocks"]] == [f"RNCP40344BC0{n}" for n in range(1, 5)]
    assert version["blocks"][0]["title"] == "Conseiller la clientèle du vétérinaire"
    assert all(b["competences"] and b["modalities"] for b in version["blocks"])
    assert version["settings"] == {"vaeMinExperienceMonths": 12, "blockValidityMonths": None}
    assert {"blocks": ["RNCP40344BC01"], "target": "RNCP37507", "targetBlocks": ["RNCP37507BC01"],
            "source": "FRANCE_COMPETENCES"} in fiche["equivalences"]
    assert fiche["predecessorCodes"] == ["RNCP37507"] and fiche["predecessors"] == []  # not in the catalog


async def test_importing_the_same_export_again_writes_no_event(catalog):
    before = await catalog.sql("SELECT count(*) AS n FROM catalog.catalog_events")
    again = run_import(catalog, CSV_ZIP, "--owner", "BOULANGERIE")
    assert "created: 0, updated: 0, unchanged: 2, rejected: 1" in again
    after = await catalog.sql("SELECT count(*) AS n FROM catalog.catalog_events")
    assert after[0]["n"] == before[0]["n"]


LIST = """query($filter: CertificationFilter, $first: Int!, $after: String, $sort: CertificationSortField!) {
  certifications(filter: $filter, first: $first, after: $after, sort: {field: $sort}) {
    totalCount edges { cursor node { code } } pageInfo { hasNextPage endCursor } } }"""


async def codes(system, first=50, sort="CODE", **filter):
    data = await system.graphql(LIST, {"filter": filter, "first": first, "sort": sort})
    return [e["node"]["code"] for e in data["certifications"]["edges"]]


async def test_certifications_are_filtered_by_registry_status_vae_level_branch_and_text(catalog):
    assert await codes(catalog, registry="RS") == ["RS6117"]
    assert await codes(catalog, status="EXPIRED") == ["RNCP19468", "RS6117"]
    assert await codes(catalog, vaeOpen=True) == ["RNCP40344"]
    assert await codes(catalog, level="NIV4") == ["RNCP40344"]
    assert await codes(catalog, branch="BOULANGERIE") == ["RNCP19468", "RS6117"]
    assert await codes(catalog, text="tourier") == ["RNCP19468", "RS6117"]
    assert await codes(catalog, text="chirurgie") == ["RNCP40344"]  # a word of a block title


async def test_certifications_are_sorted_and_paginated_with_a_total(catalog):
    assert await codes(catalog, sort="END_DATE") == ["RNCP19468", "RS6117", "RNCP40344"]
    first = (await catalog.graphql(LIST, {"first": 2, "sort": "CODE"}))["certifications"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    rest = (await catalog.graphql(LIST, {"first": 2, "after": first["pageInfo"]["endCursor"], "sort": "CODE"}))
    assert [e["node"]["code"] for e in first["edges"] + rest["certifications"]["edges"]] == \
        ["RNCP19468", "RNCP40344", "RS6117"]
    assert not rest["certifications"]["pageInfo"]["hasNextPage"]


MUTATE = """mutation($input: {type}!, $key: String!) {{ {name}(input: $input, idempotencyKey: $key) {{
  __typename ... on Error {{ code message }} {selection} }} }}"""


async def mutate(system, name, type_, data, key, selection=""):
    result = await system.graphql(MUTATE.format(name=name, type=type_, selection=selection), {"input": data, "key": key})
    return result[name]


async def events(system):
    return (await system.sql("SELECT count(*) AS n FROM catalog.catalog_events"))[0]["n"]


async def test_a_cqpi_owned_by_one_branch_is_refused_and_writes_nothing(catalog):
    written = await events(catalog)
    result = await mutate(catalog, "createCertification", "CreateCertificationInput",
                          {"code": "CQPI1", "kind": "CQPI", "title": "CQPI Agent logistique", "owners": ["UIMM"]}, "cqpi-1")
    assert result == {"__typename": "Refused", "code": "CqpiNeedsSeveralBranches",
                      "message": "a CQPI is owned and recognised by at least two branches"}
    assert await events(catalog) == written
    result = await mutate(catalog, "createCertification", "CreateCertificationInput",
                          {"code": "CQPI1", "kind": "CQPI", "title": "CQPI Agent logistique",
                           "owners": ["UIMM", "LEEM"]}, "cqpi-2", "... on CertificationChanged { certification { owners { code } } }")
    assert result["certification"]["owners"] == [{"code": "UIMM"}, {"code": "LEEM"}]


async def test_accreditation_by_an_owning_branch_shows_on_the_certification_and_not_for_an_expired_one(catalog):
    centre = await mutate(catalog, "registerOrganisation", "RegisterOrganisationInput",
                          {"name": "Clinique école", "siret": "52875765100013", "kinds": ["EVALUATION_CENTRE"]},
                          "centre", "... on OrganisationRegistered { organisation { id } }")
    organisation_id = centre["organisation"]["id"]
    accreditation = {"organisationId": organisation_id, "branch": "VETERINAIRE", "certifications": ["RNCP40344"],
                     "scope": "EVALUATION", "validFrom": "2025-04-01"}
    result = await mutate(catalog, "accredit", "AccreditInput", accreditation, "accredit-1",
                          "... on AccreditationChanged { accreditation { inForce organisation { name } } }")
    assert result["accreditation"] == {"inForce": True, "organisation": {"name": "Clinique école"}}
    assert (await certification(catalog, "RNCP40344"))["accreditedOrganisations"] == [{"name": "Clinique école"}]

    written = await events(catalog)
    wrong_branch = await mutate(catalog, "accredit", "AccreditInput", {**accreditation, "branch": "UIMM"}, "accredit-2")
    assert wrong_branch["code"] == "BranchDoesNotOwnCertification"
    expired = await mutate(catalog, "accredit", "AccreditInput",
                           {**accreditation, "branch": "BOULANGERIE", "certifications": ["RNCP19468"]}, "accredit-3")
    assert expired["code"] == "CertificationExpired"
    assert await events(catalog) == written


async def test_a_version_published_later_leaves_the_earlier_one_as_it_was(catalog):
    before = (await certification(catalog, "RNCP40344"))["versions"][0]
    result = await mutate(catalog, "publishVersion", "PublishVersionInput",
                          {"code": "RNCP40344", "effectiveFrom": "2026-09-01", "settings": {"blockValidityMonths": 60},
                           "blocks": [{"code": "RNCP40344BC01", "title": "Conseiller la clientèle"}]}, "v2",
                          "... on CertificationChanged { certification { versions { number } blocks { code } } }")
    assert [v["number"] for v in result["certification"]["versions"]] == [1, 2]
    assert result["certification"]["blocks"] == [{"code": "RNCP40344BC01"}]
    versions = (await certification(catalog, "RNCP40344"))["versions"]
    assert versions[0] == before
    assert versions[1]["settings"]["blockValidityMonths"] == 60


async def test_an_unknown_branch_or_certification_is_a_typed_error(catalog):
    result = await mutate(catalog, "createCertification", "CreateCertificationInput",
                          {"code": "CQP9", "kind": "CQP", "title": "CQP", "owners": ["NOPE"]}, "unknown-branch")
    assert (result["__typename"], result["code"]) == ("NotFound", "UnknownBranch")
    result = await mutate(catalog, "publishVersion", "PublishVersionInput",
                          {"code": "RNCP00000", "blocks": [{"code": "B1", "title": "b"}]}, "unknown-certification")
    assert (result["__typename"], result["code"]) == ("NotFound", "UnknownCertification")


async def mutate_as(system, token, name, type_, data, key, selection=""):
    query = MUTATE.format(name=name, type=type_, selection=selection)
    return (await system.graphql(query, {"input": data, "key": key}, token=token))[name]


async def test_a_change_that_touches_another_owners_certification_needs_that_owner_or_an_operator(catalog):
    """A succession is declared by a branch owning both certifications; an owner may add co-owners, but removing
    an owner needs that owner's branch (or the platform's operators). A refusal writes nothing."""
    uimm = await catalog.token(organisation="UIMM", role="branch-admin", branches=("UIMM",), username="owner-uimm")
    leem = await catalog.token(organisation="LEEM", role="branch-admin", branches=("LEEM",), username="owner-leem")
    owners = "... on CertificationChanged { certification { owners { code } predecessorCodes successorCodes } }"
    for code, kind, branches in (("CQPU7", "CQPM", ["UIMM"]), ("CQPL7", "CQP", ["LEEM"]),
                                 ("CQPI7", "CQPI", ["UIMM", "LEEM"])):
        created = await mutate(catalog, "createCertification", "CreateCertificationInput",
                               {"code": code, "kind": kind, "title": f"Titre {code}", "owners": branches}, code)
        assert created["__typename"] == "CertificationChanged", created

    written = await events(catalog)
    onto_other = {"predecessor": "CQPU7", "successor": "CQPL7"}  # LEEM would retire UIMM's certification
    for token, key in ((leem, "succession-leem"), (uimm, "succession-uimm")):
        refused = await mutate_as(catalog, token, "declareSuccession", "DeclareSuccessionInput", onto_other, key)
        assert refused["code"] == "Forbidden", refused
    assert await events(catalog) == written
    # LEEM owns both CQPL7 and the CQPI: its own succession; an operator declares UIMM's onto LEEM's.
    done = await mutate_as(catalog, leem, "declareSuccession", "DeclareSuccessionInput",
                           {"predecessor": "CQPL7", "successor": "CQPI7"}, "succession-own", owners)
    assert done["certification"]["predecessorCodes"] == ["CQPL7"]
    done = await mutate(catalog, "declareSuccession", "DeclareSuccessionInput", onto_other, "succession-op", owners)
    assert done["certification"]["predecessorCodes"] == ["CQPU7"]

    added = await mutate_as(catalog, leem, "changeOwners", "ChangeOwnersInput",
                            {"code": "CQPI7", "owners": ["UIMM", "LEEM", "BOULANGERIE"]}, "owners-add", owners)
    assert added["certification"]["owners"] == [{"code": "UIMM"}, {"code": "LEEM"}, {"code": "BOULANGERIE"}]
    written = await events(catalog)
    removed = await mutate_as(catalog, leem, "changeOwners", "ChangeOwnersInput",
                              {"code": "CQPI7", "owners": ["LEEM", "BOULANGERIE"]}, "owners-remove-other")
    assert removed["code"] == "Forbidden", removed
    assert await events(catalog) == written
    # UIMM gives up its own ownership; an operator removes BOULANGERIE.
    gave_up = await mutate_as(catalog, uimm, "changeOwners", "ChangeOwnersInput",
                              {"code": "CQPI7", "owners": ["LEEM", "BOULANGERIE"]}, "owners-remove-own", owners)
    assert gave_up["certification"]["owners"] == [{"code": "LEEM"}, {"code": "BOULANGERIE"}]
    by_operator = await mutate(catalog, "changeOwners", "ChangeOwnersInput",
                               {"code": "CQPI7", "owners": ["LEEM", "UIMM"]}, "owners-op", owners)
    assert by_operator["certification"]["owners"] == [{"code": "LEEM"}, {"code": "UIMM"}]
