"""A person's data life cycle on the whole system (real Kafka, PostgreSQL, Keycloak), through GraphQL: their
data is sealed with their own key wherever it goes, corrected, then erased on request; after the erasure
no table of any schema, no topic read from the beginning, no process log, and no rebuild of the gateway
shows it again, while every history stays readable. The holder of a certificate is not erased."""

import json
import os
import subprocess
import sys

import httpx
from aiokafka import AIOKafkaConsumer

from shared.http import idempotency_digest
from tests.e2e.test_jury_journey import (BLOCKS, EXPERIENCE, TODAY, decide, evaluate, mutate, ok, once_known,
                                        paritaire_session, present, published)
from tests.documents import attach_evidence, attach_paper
from tests.harness import LOGS, ROOT, System, eventually, kafka_options, read_topic

PERSON = {"givenName": "Quentavia", "familyName": "Zyxborowski", "email": "quentavia.zyx@example.org",
          "birthDate": "1987-11-13", "status": "EMPLOYEE", "phone": "+33 6 12 34 56 78",
          "holder": {"birthName": "Zyxborowski", "firstNames": ["Quentavia"], "sex": "F",
                     "birthCommuneInsee": "75056"}}
CORRECTED_FAMILY_NAME = "Zyxborowska-Plomb"
# Everything that would betray the person, as it would read in clear (case does not matter).
NEEDLES = ["quentavia", "zyxborowsk", "quentavia.zyx", "1987-11-13", "plomb", "12 34 56 78"]


async def catalog(system: System) -> None:
    await ok(system, "createBranch", "CreateBranchInput", {"code": "UIMM", "name": "Métallurgie", "idcc": ["3109"]}, "b")
    centre = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                      {"name": "AFPI Démo", "kinds": ["EVALUATION_CENTRE"]}, "o",
                      "... on OrganisationRegistered { organisation { id } }")
    system.centre = centre["organisation"]["id"]
    await ok(system, "createCertification", "CreateCertificationInput", {
        "code": "RNCP34174", "kind": "CQPM", "title": "CQPM conduite d'installations automatisées", "owners": ["UIMM"],
        "settings": {"blockValidityMonths": 60, "juryQuorum": 4},
        "blocks": [{"code": code, "title": f"Bloc {n}"} for n, code in enumerate(BLOCKS, 1)]}, "c")
    await ok(system, "recordRegistration", "RecordRegistrationInput", {
        "code": "RNCP34174", "registry": "RNCP", "number": "RNCP34174", "level": "NIV3", "endDate": "2029-01-15",
        "routes": ["FC", "VAE"]}, "r")
    await ok(system, "accredit", "AccreditInput", {"organisationId": system.centre, "branch": "UIMM",
                                                     "certifications": ["RNCP34174"], "scope": "EVALUATION",
                                                     "validFrom": "2024-01-01"}, "a")
    system.evaluator = await system.token(organisation=system.centre, role="evaluator")


async def candidacy(system: System, person: dict, key: str) -> tuple[str, str]:
    candidate = await ok(system, "registerCandidate", "RegisterCandidateInput", person, f"{key}-r",
                         "... on CandidateRegistered { candidate { id } }")
    candidate_id = candidate["candidate"]["id"]
    opened = await once_known(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": system.centre,
        "experience": EXPERIENCE}, f"{key}-o", "... on CandidacyChanged { candidacy { id } }")
    candidacy_id = opened["candidacy"]["id"]
    await ok(system, "positionCandidacy", "CandidacyInput", {"candidacyId": candidacy_id}, f"{key}-p")
    await attach_paper(system, candidacy_id, "LIVRET_1", f"{key}-d1")
    await ok(system, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, f"{key}-l1")
    await ok(system, "decideAdmissibility", "DecideAdmissibilityInput",
             {"candidacyId": candidacy_id, "admissible": True, "reason": "Livret 1 recevable"}, f"{key}-adm")
    await attach_paper(system, candidacy_id, "LIVRET_2", f"{key}-d2")
    await ok(system, "submitValidationFile", "CandidacyInput", {"candidacyId": candidacy_id}, f"{key}-l2")
    return candidate_id, candidacy_id


def found_in(text: str, needles: list[str]) -> list[str]:
    text = text.casefold()
    return [n for n in needles if n.casefold() in text]


def _text(value) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="ignore")
    return str(value)


async def tables_showing(system: System, needles: list[str]) -> list[str]:
    """Every table of every schema (text, json, bytea read as UTF-8, and every other column as text)."""
    tables = await system.sql("SELECT table_schema, table_name FROM information_schema.tables"
                              " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                              " AND table_type = 'BASE TABLE'")
    assert {t["table_schema"] for t in tables} >= {"catalog", "candidacy", "jury", "gateway"}
    showing = []
    for table in tables:
        name = f'"{table["table_schema"]}"."{table["table_name"]}"'
        for row in await system.sql(f"SELECT * FROM {name}"):
            if hits := found_in(" ".join(_text(v) for v in row.values()), needles):
                showing.append(f"{name}: {hits}")
                break
    return showing


async def topics_showing(system: System, needles: list[str]) -> list[str]:
    consumer = AIOKafkaConsumer(**kafka_options())
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith(system.prefix))
    finally:
        await consumer.stop()
    assert len(topics) >= 3
    showing = []
    for topic in topics:
        for envelope in await read_topic(system, topic.removeprefix(system.prefix)):
            if hits := found_in(json.dumps(envelope, ensure_ascii=False), needles):
                showing.append(f"{topic} {envelope['type']}: {hits}")
    return showing


def logs_showing(system: System, needles: list[str]) -> list[str]:
    logs = sorted(LOGS.glob(f"{system.prefix}*.log"))
    assert len(logs) >= 4
    return [f"{log.name}: {hits}" for log in logs
            if (hits := found_in(log.read_bytes().decode("utf-8", errors="ignore"), needles))]


async def everywhere_showing(system: System, needles: list[str]) -> list[str]:
    return [*await tables_showing(system, needles), *await topics_showing(system, needles),
            *logs_showing(system, needles)]


async def test_a_person_erased_on_request_is_nowhere_to_be_read_while_every_history_stays(system):
    await system.start()
    await catalog(system)
    candidate_id, candidacy_id = await candidacy(system, PERSON, "q")
    assert (await evaluate(system, candidacy_id, BLOCKS[0], True, "q-e0"))["validated"]
    await ok(system, "correctCandidate", "CorrectCandidateInput",
             {"candidateId": candidate_id, "familyName": CORRECTED_FAMILY_NAME}, "q-fix")

    # Shown to those who may read the person, found by their words; stored and published only sealed.
    shown = await system.graphql("query($id: ID!) { candidate(id: $id) { givenName familyName email birthDate erased } }",
                                 {"id": candidate_id})
    assert shown["candidate"] == {"givenName": "Quentavia", "familyName": CORRECTED_FAMILY_NAME,
                                  "email": PERSON["email"], "birthDate": "1987-11-13", "erased": False}
    search = "query($s: String) { candidates(search: $s) { edges { node { id } } } }"
    for words in ("quentavia", "ZYXBOROWSKA", "plomb quent", "1987-11-13"):
        assert [e["node"]["id"] for e in (await system.graphql(search, {"s": words}))["candidates"]["edges"]] == \
            [candidate_id], words
    assert await everywhere_showing(system, NEEDLES) == []

    # Erasure: refused while the candidacy is under way, then done; the person reads as erased.
    still_open = await mutate(system, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "q-x0")
    assert still_open["code"] == "CandidacyStillOpen"
    await ok(system, "withdrawCandidacy", "WithdrawCandidacyInput",
             {"candidacyId": candidacy_id, "reason": "à la demande de la personne"}, "q-w")
    await ok(system, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "q-x1")
    again = await mutate(system, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "q-x1")
    assert again["__typename"] == "CandidateChanged"  # the same key: the same answer, nothing more

    async def erased_everywhere():
        state = await system.graphql(
            "query($id: ID!, $c: ID!) { candidate(id: $id) { givenName familyName email erased"
            " history { type } } candidacy(id: $c) { status history { type } evaluations { block } } }",
            {"id": candidate_id, "c": candidacy_id})
        return state if state["candidate"]["erased"] and \
            state["candidate"]["history"][-1]["type"] == "CandidateErased" else None

    state = await eventually(erased_everywhere)
    assert state["candidate"]["givenName"] == state["candidate"]["familyName"] == "[erased]"
    assert state["candidate"]["email"] is None
    assert [h["type"] for h in state["candidate"]["history"]] == ["CandidateRegistered", "CandidateCorrected",
                                                                  "CandidateErased"]
    assert [h["type"] for h in state["candidacy"]["history"]][0] == "CandidacyOpened"
    assert state["candidacy"]["status"] == "WITHDRAWN" and state["candidacy"]["evaluations"] == [{"block": BLOCKS[0]}]
    assert (await system.graphql(search, {"s": "quentavia"}))["candidates"]["edges"] == []
    assert (await system.sql("SELECT count(*) AS n FROM candidacy.personal_keys WHERE person_id = $1",
                             candidate_id))[0]["n"] == 0
    assert await everywhere_showing(system, NEEDLES) == []

    # A crash between recording the erasure and destroying the key: the key goes when the service starts.
    system["candidacy"].kill()
    await system.sql("INSERT INTO candidacy.personal_keys (person_id, wrapped) VALUES ($1, 'left over')", candidate_id)
    await system.sql("INSERT INTO candidacy.personal_erasures (person_id) VALUES ($1)", candidate_id)
    await system.start("candidacy")
    assert (await system.sql("SELECT count(*) AS n FROM candidacy.personal_keys WHERE person_id = $1",
                             candidate_id))[0]["n"] == 0

    # The gateway's read models, dropped and rebuilt from the topics: the person does not come back.
    system["gateway"].kill(15)
    rebuilt = subprocess.run([sys.executable, "-m", "tools.cli", "gateway", "rebuild"], cwd=ROOT,
                             env={**os.environ, **system["gateway"].env}, capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr
    await system.start("gateway")
    assert (await eventually(erased_everywhere))["candidate"]["givenName"] == "[erased]"
    assert await everywhere_showing(system, NEEDLES) == []


async def test_the_holder_of_a_certificate_is_not_erased_for_the_certifier_must_keep_its_holders_records(system):
    await system.start()
    await catalog(system)
    holder = {**PERSON, "givenName": "Ermengilde", "familyName": "Vantongerloo", "email": "ermengilde@example.org",
              "holder": {**PERSON["holder"], "birthName": "Vantongerloo", "firstNames": ["Ermengilde"]}}
    candidate_id, candidacy_id = await candidacy(system, holder, "h")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(system, candidacy_id, block, True, f"h-e{n}"))["validated"]
    session_id, members = await paritaire_session(system, TODAY, "s")
    await ok(system, "appointJuryMember", "AppointJuryMemberInput",
             {"sessionId": session_id, "name": "Oswaldine Krzywicka", "college": "EMPLOYER"}, "s-m")
    await present(system, session_id, candidacy_id, "h-present")
    number = (await decide(system, session_id, candidacy_id, "FULL_AWARD", members, "h-d"))["certificateNumber"]
    await published(system, session_id, "h")  # a holder's name is verified once the session's results are published

    async def refused():
        answer = await mutate(system, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "h-x")
        return answer if answer.get("code") == "HolderRecordsKept" and \
            answer["details"]["certificates"] == [number] else None

    refusal = await eventually(refused)  # once the candidacy service has learnt of the certificate
    assert refusal["details"]["certificates"] == [number]
    assert "keep" in refusal["message"]
    verified = await system.graphql("query($n: String!) { verifyCertificate(number: $n) { holder } }", {"n": number},
                                    token=None)
    assert verified["verifyCertificate"] == {"holder": "Ermengilde Vantongerloo"}
    session = await system.graphql("query($id: ID!) { jurySession(id: $id) { members { name } roster { familyName } } }",
                                   {"id": session_id})
    assert "Oswaldine Krzywicka" in [m["name"] for m in session["jurySession"]["members"]]
    assert session["jurySession"]["roster"] == [{"familyName": "Vantongerloo"}]
    # Shown to whom may see them, and sealed everywhere else: no table, topic or log holds them in clear.
    assert await everywhere_showing(system, ["ermengilde", "vantongerloo", "oswaldine", "krzywicka"]) == []



async def test_an_evaluators_name_and_evidence_are_sealed_like_the_candidates_data_and_erased_with_them(system):
    """Free text about the candidate (who evaluated them, the evidence) is stored and published only sealed with
    a key of the candidate's, shown to whoever may read the candidacy, and reads as [erased] once they are."""
    await system.start()
    await catalog(system)
    person = {**PERSON, "givenName": "Philomène", "familyName": "Quarterbrook", "email": "philomene@example.org",
              "holder": {**PERSON["holder"], "birthName": "Quarterbrook", "firstNames": ["Philomène"]}}
    candidate_id, candidacy_id = await candidacy(system, person, "t")
    # And an idempotency key of client text (here the person's name): kept and shown only as its keyed digest.
    key = "Philomène Quarterbrook évaluation B1"
    needles = ["Brunehilde Vasquez-Ohlsson", "dossier-ohlsson-7731", key]
    evidence = await attach_evidence(system, candidacy_id, BLOCKS[0], "t-evidence", system.evaluator)
    assert (await once_known(system, "recordEvaluation", "RecordEvaluationInput", {
        "candidacyId": candidacy_id, "block": BLOCKS[0], "modality": "PRACTICAL_SITUATION", "evaluator": needles[0],
        "on": TODAY, "evidence": needles[1], "evidenceDocuments": [evidence], "competences": [{"competence": "Conduire", "acquired": True}]},
        key, "... on EvaluationRecorded { validated }", token=system.evaluator))["validated"]
    history = await system.graphql("query($c: ID!) { candidacy(id: $c) { history { type causationId } } }",
                                   {"c": candidacy_id})
    [causation] = [h["causationId"] for h in history["candidacy"]["history"] if h["type"] == "BlockValidated"]
    assert causation == idempotency_digest(system["jury"].env["CQP_COMMAND_KEY"], key)

    query = "query($c: ID!) { candidacy(id: $c) { evaluations { block evaluator evidence } } }"
    shown = await system.graphql(query, {"c": candidacy_id})
    assert shown["candidacy"]["evaluations"] == [{"block": BLOCKS[0], "evaluator": needles[0], "evidence": needles[1]}]
    assert await everywhere_showing(system, needles) == []

    # Straight to the jury's port, as the gateway asks it: no more than through the gateway.
    other = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                     {"name": "Autre centre", "kinds": ["EVALUATION_CENTRE"]}, "t-o2",
                     "... on OrganisationRegistered { organisation { id } }")
    intruder = await system.token(organisation=other["organisation"]["id"], role="evaluator")

    async def texts(token):
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(f"{system['jury'].url}/queries/evaluations", json={"candidacies": [candidacy_id]},
                                     headers={"authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return [t for evaluations in answer.json()["candidacies"].values() for t in evaluations.values()]

    assert await texts(system.evaluator) == [{"evaluator": needles[0], "evidence": needles[1]}]
    assert await texts(intruder) == []

    await ok(system, "withdrawCandidacy", "WithdrawCandidacyInput", {"candidacyId": candidacy_id, "reason": "départ"},
             "t-w")
    await ok(system, "eraseCandidate", "EraseCandidateInput", {"candidateId": candidate_id}, "t-x")

    async def erased():
        evaluations = (await system.graphql(query, {"c": candidacy_id}))["candidacy"]["evaluations"]
        return evaluations if evaluations[0]["evaluator"] == "[erased]" else None

    assert await eventually(erased) == [{"block": BLOCKS[0], "evaluator": "[erased]", "evidence": "[erased]"}]
    assert (await system.sql("SELECT count(*) AS n FROM jury.personal_keys WHERE person_id = $1",
                             candidate_id))[0]["n"] == 0
    assert await everywhere_showing(system, needles) == []
