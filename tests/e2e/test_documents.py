"""The papers of a VAE file end to end, through GraphQL and the gateway's download links, on real Kafka,
PostgreSQL, Keycloak and the S3 server: a step needing a paper refused without it; bytes judged by what they
are, not their name; versions superseded, both kept; a Livret 2 read by the jury of the session it is
presented to and by no one else; after the person's erasure, the stored object is noise."""

import hashlib

import pytest_asyncio

from shared.objects import ObjectStore
from tests.documents import MUTATIONS, attach_evidence, attach_paper, download, paper, upload
from tests.e2e.test_erasure import catalog
from tests.e2e.test_jury_journey import (BLOCKS, EXPERIENCE, TODAY, evaluate, mutate, ok, once_known,
                                        paritaire_session, present)
from tests.harness import System, eventually, s3_settings

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 56 + b"This program cannot be run in DOS mode.\r\n"
DOCUMENTS = ("documents(includeSuperseded: true) { id kind version supersedes supersededBy sha256 size mediaType"
             " attachedBy { role organisationId } }")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    system = await System.create()
    await system.start()
    await catalog(system)  # the UIMM, its CQPM and an accredited centre
    await ok(system, "createBranch", "CreateBranchInput", {"code": "LEEM", "name": "Pharmacie", "idcc": ["176"]}, "b2")
    other = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                     {"name": "Autre centre", "kinds": ["EVALUATION_CENTRE"]}, "o2",
                     "... on OrganisationRegistered { organisation { id } }")
    system.other_centre = other["organisation"]["id"]
    system.evaluator = await system.token(organisation=system.centre, role="evaluator")

    async def candidacy_service_knows_the_accreditation():
        return (await system.sql("SELECT count(*) AS n FROM candidacy.catalog_accreditations"))[0]["n"] == 1

    await eventually(candidacy_service_knows_the_accreditation)
    system.objects = ObjectStore.from_settings(s3_settings("candidacy"))
    system.objects.prefix = system.prefix
    await system.objects.start()
    yield system
    await system.objects.close()
    system.stop()


async def vae_candidacy(system, key: str, family_name: str = "Martin") -> tuple[str, str]:
    candidate = await ok(system, "registerCandidate", "RegisterCandidateInput",
                         {"givenName": "Camille", "familyName": family_name, "email": f"{key}@example.org",
                          "status": "EMPLOYEE"}, f"{key}-r", "... on CandidateRegistered { candidate { id } }")
    candidate_id = candidate["candidate"]["id"]
    opened = await once_known(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": system.centre,
        "experience": EXPERIENCE}, f"{key}-o", "... on CandidacyChanged { candidacy { id } }")
    return candidate_id, opened["candidacy"]["id"]


async def read(system, candidacy_id: str, selection: str) -> dict:
    return (await system.graphql(f"query($id: ID!) {{ candidacy(id: $id) {{ {selection} }} }}",
                                 {"id": candidacy_id}))["candidacy"]


async def stored_objects(system, candidacy_id: str) -> list[str]:
    return await system.objects.keys(f"candidacies/{candidacy_id}/")


async def test_the_admissibility_request_is_refused_without_its_livret_1_then_accepted_with_it(world):
    _, candidacy_id = await vae_candidacy(world, "adm")
    requirements = (await read(world, candidacy_id, "documentRequirements { step kind satisfied }"))
    assert {"step": "file-admissibility", "kind": "LIVRET_1", "satisfied": False} in \
        requirements["documentRequirements"]
    refused = await mutate(world, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, "adm-f1")
    assert (refused["code"], refused["details"]["missing"]) == ("DocumentMissing", ["LIVRET_1"])

    content = paper("livret 1 de Camille")
    document = await attach_paper(world, candidacy_id, "LIVRET_1", "adm-d1", content)
    assert (document["kind"], document["version"], document["mediaType"], document["size"]) == \
        ("LIVRET_1", 1, "application/pdf", len(content))
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    requirements = (await read(world, candidacy_id, "documentRequirements { step kind satisfied }"))
    assert {"step": "file-admissibility", "kind": "LIVRET_1", "satisfied": True} in \
        requirements["documentRequirements"]
    await ok(world, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, "adm-f2")


async def test_a_file_named_pdf_carrying_an_executable_is_refused_and_nothing_of_it_is_kept(world):
    _, candidacy_id = await vae_candidacy(world, "exe")
    events = await world.written("candidacy")
    mutation, input_type = MUTATIONS["LIVRET_2"]
    data = {"candidacyId": candidacy_id, "kind": "LIVRET_2"}
    refused = await upload(world, mutation, input_type, data, EXECUTABLE, "exe-1", filename="livret2.pdf")
    assert refused["__typename"] == "DocumentTypeRefused" and refused["details"]["accepted"] == ["application/pdf"]
    altered = await upload(world, mutation, input_type, data, paper("exe"), "exe-2", sha256="0" * 64)
    assert altered["__typename"] == "DigestMismatch"
    assert await world.written("candidacy") == events
    assert await stored_objects(world, candidacy_id) == []
    assert (await read(world, candidacy_id, DOCUMENTS))["documents"] == []


async def test_a_new_livret_supersedes_the_old_one_and_the_file_keeps_both(world):
    _, candidacy_id = await vae_candidacy(world, "sup")
    first_bytes, second_bytes = paper("première version"), paper("seconde version")
    first = await attach_paper(world, candidacy_id, "LIVRET_1", "sup-1", first_bytes)
    second = await attach_paper(world, candidacy_id, "LIVRET_1", "sup-2", second_bytes)
    assert (second["version"], second["supersedes"]) == (2, first["id"])
    documents = {d["id"]: d for d in (await read(world, candidacy_id, DOCUMENTS))["documents"]}
    assert documents[first["id"]]["supersededBy"] == second["id"] and documents[second["id"]]["supersededBy"] is None
    current = await read(world, candidacy_id, "documents { id }")
    assert current["documents"] == [{"id": second["id"]}]
    # What the file held on each day stays readable: each version its own bytes.
    assert (await download(world, first["downloadUrl"])).content == first_bytes
    assert (await download(world, second["downloadUrl"])).content == second_bytes
    async def both_read():  # each download recorded (DocumentRead), shown once the gateway has it
        history = [h["type"] for h in (await read(world, candidacy_id, "history { type }"))["history"]]
        return history if history.count("DocumentRead") >= 2 else None

    history = await eventually(both_read)
    assert history.count("DocumentAttached") == 2 and history.count("DocumentRead") == 2
    assert len(await stored_objects(world, candidacy_id)) == 2


async def test_the_livret_2_is_read_by_the_jury_of_its_session_and_by_no_other_centre_or_branch(world):
    _, candidacy_id = await vae_candidacy(world, "jury")
    await attach_paper(world, candidacy_id, "LIVRET_1", "jury-d1")
    await ok(world, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, "jury-f")
    await ok(world, "decideAdmissibility", "DecideAdmissibilityInput",
             {"candidacyId": candidacy_id, "admissible": True, "reason": "recevable"}, "jury-a")
    evaluator = await world.token(organisation=world.centre, role="evaluator")
    content = paper("livret 2: activités et compétences")
    livret = await attach_paper(world, candidacy_id, "LIVRET_2", "jury-d2", content, token=evaluator)
    await ok(world, "submitValidationFile", "CandidacyInput", {"candidacyId": candidacy_id}, "jury-v")

    for n, block in enumerate(BLOCKS):
        await evaluate(world, candidacy_id, block, True, f"jury-e{n}")  # each with its observation report

    juror = await world.token(organisation="UIMM", role="jury-member", branches=("UIMM",))
    before = await download(world, livret["downloadUrl"], juror)
    assert before.status_code == 404  # not presented yet: to the jury, no such candidacy
    session_id, _ = await paritaire_session(world, TODAY, "jury-s")
    await present(world, session_id, candidacy_id, "jury-p")
    # Presenting listed what the jury reads: each block's observation report, then the Livret 2.
    shown = await world.graphql("query($id: ID!) { jurySession(id: $id) { presented { papers { documentId kind } } } }",
                                {"id": session_id})
    papers = shown["jurySession"]["presented"][0]["papers"]
    assert [p["kind"] for p in papers] == ["EVALUATION_EVIDENCE"] * len(BLOCKS) + ["LIVRET_2"]
    assert papers[-1]["documentId"] == livret["id"]

    async def the_jury_reads_it():
        answer = await download(world, livret["downloadUrl"], juror)
        return answer if answer.status_code == 200 else None  # once the candidacy service learns of the session

    answer = await eventually(the_jury_reads_it)
    assert answer.content == content and answer.headers["x-content-sha256"] == livret["sha256"]
    assert answer.headers["content-type"].startswith("application/pdf")
    assert answer.headers["cache-control"] == "no-store"
    # The same link, in other hands, is worth what their own rights are: nothing, here.
    other_centre = await world.token(organisation=world.other_centre, role="evaluator")
    other_branch = await world.token(organisation="LEEM", role="branch-admin", branches=("LEEM",))
    other_jury = await world.token(organisation="LEEM", role="jury-member", branches=("LEEM",))
    for caller in (other_centre, other_branch, other_jury, None):
        refused = await download(world, livret["downloadUrl"], caller)
        assert (refused.status_code, refused.json()["error"]["type"]) in \
            ((404, "UnknownCandidacy"), (401, "Unauthenticated")), refused.text
        assert content not in refused.content
    history = (await read(world, candidacy_id, "history { type actor { role organisationId } }"))["history"]
    reads = [h["actor"] for h in history if h["type"] == "DocumentRead"]
    assert reads == [{"role": "jury-member", "organisationId": "UIMM"}]

    # The certifier's copy of the holder's identity document is the certifier's: not the jury's to read.
    certifier = await world.token(organisation="UIMM", role="certifier", branches=("UIMM",))
    identity = await attach_paper(world, candidacy_id, "IDENTITY_DOCUMENT", "jury-id", paper("pièce d'identité"),
                                  token=certifier)
    assert (await download(world, identity["downloadUrl"], certifier)).status_code == 200
    refused = await download(world, identity["downloadUrl"], juror)
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "Forbidden")

    # The jury reads the evidence each evaluation named, and the session's own papers.
    evidence = [d for d in (await read(world, candidacy_id, DOCUMENTS))["documents"]
                if d["kind"] == "EVALUATION_EVIDENCE"]
    assert len(evidence) == len(BLOCKS)
    shown = (await world.graphql("query($id: ID!) { candidacy(id: $id) { documents { id kind downloadUrl } } }",
                                 {"id": candidacy_id}, token=juror))["candidacy"]["documents"]
    assert {d["kind"] for d in shown} == {"LIVRET_1", "LIVRET_2", "EVALUATION_EVIDENCE"}
    evaluations = (await world.graphql("query($id: ID!) { candidacy(id: $id) { evaluations { block"
                                       " evidenceDocuments { id kind block } } } }", {"id": candidacy_id},
                                       token=juror))["candidacy"]["evaluations"]
    assert sorted((e["block"], [d["block"] for d in e["evidenceDocuments"]]) for e in evaluations) == \
        [(block, [block]) for block in BLOCKS]  # each names its block's observation report
    report = next(d for d in shown if d["kind"] == "EVALUATION_EVIDENCE")
    assert (await download(world, report["downloadUrl"], juror)).status_code == 200
    assert (await download(world, report["downloadUrl"], other_jury)).status_code == 404

    secretary = await world.token(organisation="UIMM", role="jury-secretary", branches=("UIMM",))
    sheet = await upload(world, "attachJuryPaper", "AttachJuryPaperInput",
                         {"sessionId": session_id, "kind": "ATTENDANCE_SHEET"}, paper("émargement"), "jury-sheet",
                         secretary, filename="emargement.pdf", success="JuryPaperAttached")
    assert sheet["__typename"] == "JuryPaperAttached", sheet
    assert (await download(world, sheet["document"]["downloadUrl"], juror)).content == paper("émargement")
    assert (await download(world, sheet["document"]["downloadUrl"], other_jury)).status_code == 404


async def test_after_the_persons_erasure_the_stored_object_is_noise_and_the_history_still_replays(world):
    candidate_id, candidacy_id = await vae_candidacy(world, "erase", family_name="Xylofaghiel")
    content = paper("Xylofaghiel: attestation d'employeur")
    document = await attach_paper(world, candidacy_id, "LIVRET_1_SUPPORT", "erase-d", content)
    (key,) = await stored_objects(world, candidacy_id)
    raw = await world.objects.get(key)
    assert b"Xylofaghiel" not in raw and b"%PDF" not in raw and hashlib.sha256(raw).hexdigest() != document["sha256"]
    assert (await download(world, document["downloadUrl"])).content == content
    # The jury's evidence about them is sealed with the key the jury service keeps for them: erased with them too.
    report = paper("Xylofaghiel: grille d'observation")
    evidence = await attach_evidence(world, candidacy_id, BLOCKS[0], "erase-e", world.evaluator, report)
    evidence_url = f"/documents/{evidence}"
    assert (await download(world, evidence_url)).content == report

    await ok(world, "withdrawCandidacy", "WithdrawCandidacyInput", {"candidacyId": candidacy_id, "reason": "départ"},
             "erase-w")
    await ok(world, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "erase-x")
    gone = await download(world, document["downloadUrl"])
    assert (gone.status_code, gone.json()["error"]["type"]) == (410, "DocumentUnreadable")
    assert b"Xylofaghiel" not in await world.objects.get(key)

    async def evidence_unreadable():  # once the jury service hears of the erasure (Kafka)
        answer = await download(world, evidence_url)
        return answer if answer.status_code == 410 else None

    assert (await eventually(evidence_unreadable)).json()["error"]["type"] == "DocumentUnreadable"
    jury_objects = ObjectStore.from_settings(s3_settings("jury"))
    jury_objects.prefix = world.prefix
    async with jury_objects:
        stored = [await jury_objects.get(k) for k in await jury_objects.keys()]
    assert stored and not any(b"Xylofaghiel" in raw or b"%PDF" in raw for raw in stored)
    # The attempt is recorded like any read; the history replays whole.
    history = [h["type"] for h in (await read(world, candidacy_id, "history { type }"))["history"]]
    assert [h for h in history if not h.startswith("Document")] == ["CandidacyOpened", "CandidacyWithdrawn"]
    assert history.count("DocumentAttached") == 2 and history[:2] == ["CandidacyOpened", "DocumentAttached"]
    assert sorted(d["kind"] for d in (await read(world, candidacy_id, DOCUMENTS))["documents"]) == \
        ["EVALUATION_EVIDENCE", "LIVRET_1_SUPPORT"]  # their facts stay
