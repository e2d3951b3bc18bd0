"""The whole journey on real Kafka and PostgreSQL, through GraphQL only: a CQPM with three blocks, VAE
candidacies, evaluations, paritaire sessions, a full award verified by its number, and a partial
validation completed at a later session. A plain Kafka consumer checks the published envelopes."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date

import asyncpg
import httpx
import pytest_asyncio
import xmlschema

from tests.documents import attach_evidence, attach_paper, paper, upload
from tests.harness import ROOT, System, eventually, read_topic

# Evaluations are dated neither in the future nor before the candidacy (opened today), and a session
# decides on or after its day: the journey happens today.
TODAY = date.today().isoformat()

BLOCKS = ["RNCP34174BC01", "RNCP34174BC02", "RNCP34174BC03"]
EXPERIENCE = [{"start": "2018-01-01", "end": "2024-12-31", "activity": "Conducteur d'installations"}]


async def mutate(system, name, type_, data, key, selection="", token="default"):
    query = (f"mutation($input: {type_}!, $key: String!) {{ {name}(input: $input, idempotencyKey: $key) {{"
             f" __typename ... on Error {{ code message details }} {selection} }} }}")
    return (await system.graphql(query, {"input": data, "key": key}, token=token))[name]


async def ok(system, name, type_, data, key, selection="", token="default"):
    result = await mutate(system, name, type_, data, key, selection, token)
    assert "code" not in result, result
    return result


async def once_known(system, name, type_, data, key, selection="", token="default"):
    """Retry (same key: a refusal writes nothing) until the service has learnt of what it refers to."""
    async def attempt():
        result = await mutate(system, name, type_, data, key, selection, token)
        return None if result.get("code") in ("UnknownCandidacy", "UnknownCertification") else result
    return await eventually(attempt)


async def present(system, session_id, candidacy_id, key, selection=""):
    """Present a candidacy once the jury service knows it is ready: it learns the candidacy's status through
    Kafka, so a presentation right after the last step may be refused (NotReadyForJury, nothing written)."""
    async def attempt():
        result = await mutate(system, "presentCandidacy", "PresentCandidacyInput",
                              {"sessionId": session_id, "candidacyId": candidacy_id}, key, selection)
        return None if result.get("code") in ("NotReadyForJury", "UnknownCandidacy") else result
    result = await eventually(attempt)
    assert "code" not in result, result
    return result


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def journey():
    system = await System.create()
    await system.start()
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

    async def both_services_know_the_accreditation():  # they learn the catalog through Kafka
        counts = [(await system.sql(f"SELECT count(*) AS n FROM {schema}.catalog_accreditations"))[0]["n"]
                  for schema in ("candidacy", "jury")]
        return counts == [1, 1]

    await eventually(both_services_know_the_accreditation)
    yield system
    system.stop()


async def vae_candidacy(system, given_name, key, holder=None):
    person = {"givenName": given_name, "familyName": "Martin", "email": f"{key}@example.org", "status": "EMPLOYEE"}
    if holder:
        person |= {"holder": holder, "birthDate": "1990-05-23"}
    candidate = await ok(system, "registerCandidate", "RegisterCandidateInput", person, f"{key}-r",
                         "... on CandidateRegistered { candidate { id } }")
    candidate_id = candidate["candidate"]["id"]
    opened = await once_known(system, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": system.centre,
        "experience": EXPERIENCE}, f"{key}-o", "... on CandidacyChanged { candidacy { id } }")
    assert "candidacy" in opened, opened
    candidacy_id = opened["candidacy"]["id"]
    await ok(system, "positionCandidacy", "CandidacyInput", {"candidacyId": candidacy_id}, f"{key}-p")
    # A VAE candidacy goes before the jury admissible, with its validation file (Livret 2) submitted.
    await attach_paper(system, candidacy_id, "LIVRET_1", f"{key}-d1")
    await ok(system, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, f"{key}-l1")
    await ok(system, "decideAdmissibility", "DecideAdmissibilityInput",
             {"candidacyId": candidacy_id, "admissible": True, "reason": "Livret 1 recevable"}, f"{key}-adm")
    await attach_paper(system, candidacy_id, "LIVRET_2", f"{key}-d2")
    await ok(system, "submitValidationFile", "CandidacyInput", {"candidacyId": candidacy_id}, f"{key}-l2")
    return candidate_id, candidacy_id


async def evaluate(system, candidacy_id, block, acquired, key, on=TODAY, token=None):
    """An observed situation, with its observation report attached first (the evaluation names it)."""
    token = token or system.evaluator
    evidence = await attach_evidence(system, candidacy_id, block, f"{key}-evidence", token)
    return await once_known(system, "recordEvaluation", "RecordEvaluationInput", {
        "candidacyId": candidacy_id, "block": block, "modality": "PRACTICAL_SITUATION", "evaluator": "J. Dupont",
        "on": on, "evidence": f"preuves/{key}", "evidenceDocuments": [evidence],
        "competences": [{"competence": "Conduire l'installation", "acquired": True},
                        {"competence": "Diagnostiquer un arrêt", "acquired": acquired}]},
        key, "... on EvaluationRecorded { validated }", token=token)


async def paritaire_session(system, on, key):
    session = await ok(system, "scheduleJurySession", "ScheduleJurySessionInput", {
        "branch": "UIMM", "certifications": ["RNCP34174"], "on": on, "place": "Paris", "capacity": 10}, key,
        "... on JurySessionChanged { session { id } }")
    session_id = session["session"]["id"]
    members = []
    for n, (college, role) in enumerate([("EMPLOYER", "PRESIDENT"), ("EMPLOYEE", "VICE_PRESIDENT"),
                                         ("EMPLOYER", "MEMBER"), ("EMPLOYEE", "MEMBER")]):
        appointed = await ok(system, "appointJuryMember", "AppointJuryMemberInput",
                             {"sessionId": session_id, "name": f"Membre {n}", "college": college, "role": role},
                             f"{key}-m{n}", "... on JurySessionChanged { memberId }")
        members.append(appointed["memberId"])
    return session_id, members


async def decide(system, session_id, candidacy_id, decision, members, key):
    return await mutate(system, "decide", "DecideInput", {
        "sessionId": session_id, "candidacyId": candidacy_id, "decision": decision, "presentMembers": members,
        "votesFor": len(members)}, key, "... on JurySessionChanged { certificateNumber }")


async def published(system, session_id, key):
    """The session's results shown to the candidates: minutes first (uploaded here, the session stays open)."""
    minutes = await upload(system, "attachJuryPaper", "AttachJuryPaperInput",
                           {"sessionId": session_id, "kind": "JURY_MINUTES"}, paper(f"minutes {key}"), f"{key}-min",
                           success="JuryPaperAttached")
    assert minutes["__typename"] == "JuryPaperAttached", minutes
    await ok(system, "publishSessionResults", "PublishSessionResultsInput", {"sessionId": session_id}, f"{key}-pub")


async def verified_once_valid(system, number: str, selection: str) -> dict:
    """The public verification of a certificate once it vouches for its holder: the candidacy service, which
    names the holder, learns of the award through Kafka, so it may say `valid: false` for a moment."""
    async def valid():
        answer = await system.graphql(f"query($n: String!) {{ verifyCertificate(number: $n) {{ valid {selection} }} }}",
                                      {"n": number}, token=None)
        return answer["verifyCertificate"] if answer["verifyCertificate"]["valid"] else None
    return await eventually(valid)


async def test_a_full_award_then_a_partial_validation_completed_at_a_later_session(journey):
    # First candidate: three blocks validated, awarded.
    first_candidate, first = await vae_candidacy(journey, "Camille", "first")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(journey, first, block, True, f"first-e{n}"))["validated"]
    session_id, members = await paritaire_session(journey, TODAY, "s1")

    # Rules, each a typed error: colleges out of balance, a quorum of 4, a candidacy not yet presented.
    await present(journey, session_id, first, "first-present")
    unbalanced = await decide(journey, session_id, first, "FULL_AWARD", members[:3], "first-d0")
    assert unbalanced["code"] == "UnbalancedColleges"
    no_quorum = await decide(journey, session_id, first, "FULL_AWARD", members[:2], "first-d1")
    assert no_quorum["code"] == "QuorumNotReached"
    awarded = await decide(journey, session_id, first, "FULL_AWARD", members, "first-d2")
    number = awarded["certificateNumber"]
    assert number.startswith("RNCP34174-")
    await published(journey, session_id, "s1")

    verified = await verified_once_valid(journey, number, "kind holder certificationCode certificationTitle"
                                                           " version awardedOn")
    assert verified == {
        "valid": True, "kind": "CERTIFICATE", "holder": "Camille Martin", "certificationCode": "RNCP34174",
        "certificationTitle": "CQPM conduite d'installations automatisées", "version": 1, "awardedOn": TODAY}
    guessed = await journey.graphql('{ verifyCertificate(number: "RNCP34174-00000000000000000000") { holder } }',
                                    token=None)
    assert guessed["verifyCertificate"] is None

    candidate = await journey.graphql("query($id: ID!) { candidate(id: $id) { certificates { number kind } } }",
                                      {"id": first_candidate})
    assert candidate["candidate"]["certificates"] == [{"number": number, "kind": "CERTIFICATE"}]

    async def closed():  # the candidacy service closes the candidacy on the jury's award
        data = await journey.graphql("query($id: ID!) { candidacy(id: $id) { status evaluations { block validated }"
                                     " decisions { decision blocksAcquired } } }", {"id": first})
        return data["candidacy"] if data["candidacy"]["status"] == "CLOSED" else None

    candidacy = await eventually(closed)
    assert [e["block"] for e in candidacy["evaluations"]] == BLOCKS
    assert candidacy["decisions"] == [{"decision": "FULL_AWARD", "blocksAcquired": BLOCKS}]

    # Second candidate: the third block is not validated, so a partial validation first.
    _, second = await vae_candidacy(journey, "Sacha", "second")
    for n, (block, acquired) in enumerate(zip(BLOCKS, (True, True, False))):
        assert (await evaluate(journey, second, block, acquired, f"second-e{n}"))["validated"] is acquired
    await present(journey, session_id, second, "second-present")
    missing = await decide(journey, session_id, second, "FULL_AWARD", members, "second-d0")
    assert (missing["code"], missing["details"]["missing"]) == ("AwardWithMissingBlock", ["RNCP34174BC03"])
    partial = await decide(journey, session_id, second, "PARTIAL_VALIDATION", members, "second-d1")
    assert partial["certificateNumber"]  # the attestation of the blocks acquired

    # The retake: only the missing block is evaluated again, and presented to a later session.
    again = await evaluate(journey, second, "RNCP34174BC01", True, "second-e-again", on=TODAY)
    assert again["code"] == "BlockAlreadyAcquired"
    assert (await evaluate(journey, second, "RNCP34174BC03", True, "second-e3", on=TODAY))["validated"]
    later, members = await paritaire_session(journey, TODAY, "s2")
    presented = await present(journey, later, second, "second-present-2",
                              "... on JurySessionChanged { session { presented { candidacyId blocks } } }")
    assert presented["session"]["presented"] == [{"candidacyId": second, "blocks": ["RNCP34174BC03"]}]
    awarded = await decide(journey, later, second, "FULL_AWARD", members, "second-d2")
    await published(journey, later, "s2")
    verified = await verified_once_valid(journey, awarded["certificateNumber"], "holder kind")
    assert verified == {"valid": True, "holder": "Sacha Martin", "kind": "CERTIFICATE"}

    sessions = await journey.graphql('{ jurySessions(filter: {branch: "UIMM", status: "HELD"}) { edges { node {'
                                     ' heldOn decisions { decision } } } } }')
    assert sorted((s["node"]["heldOn"], len(s["node"]["decisions"])) for s in sessions["jurySessions"]["edges"]) == \
        [(TODAY, 1), (TODAY, 2)]


async def test_an_organisation_not_evaluating_the_candidacy_may_not_record_results_and_a_correction_needs_a_reason(
        journey):
    _, candidacy = await vae_candidacy(journey, "Alex", "third")
    unaccredited = await ok(journey, "registerOrganisation", "RegisterOrganisationInput",
                            {"name": "Centre non habilité", "kinds": ["EVALUATION_CENTRE"]}, "stranger",
                            "... on OrganisationRegistered { organisation { id } }")
    stranger = await journey.token(organisation=unaccredited["organisation"]["id"], role="evaluator")
    assert (await evaluate(journey, candidacy, BLOCKS[0], False, "third-ok"))["validated"] is False  # jury knows it
    # A candidacy out of the caller's reach reads as an unknown one (whether it exists is not told).
    refused = await mutate(journey, "recordEvaluation", "RecordEvaluationInput", {
        "candidacyId": candidacy, "block": BLOCKS[0], "modality": "PRACTICAL_SITUATION", "evaluator": "X", "on": TODAY,
        "evidence": "x", "competences": [{"competence": "Conduire", "acquired": True}]}, "third-e0", token=stranger)
    assert (refused["code"], refused["message"], refused["details"]) == ("UnknownCandidacy", "no such candidacy", {})
    sessions = await journey.graphql('{ jurySessions(filter: {certification: "RNCP34174"}) { edges { node { id'
                                     ' decisions { candidacyId } } } } }')
    session = next(e["node"] for e in sessions["jurySessions"]["edges"] if e["node"]["decisions"])
    correction = {"sessionId": session["id"], "candidacyId": session["decisions"][0]["candidacyId"],
                  "decision": "DEFERRAL", "reason": " "}
    refused = await mutate(journey, "correctDecision", "CorrectDecisionInput", correction, "correct-0")
    assert refused["code"] == "CorrectionNeedsReason"


ENVELOPE = {"event_id", "type", "version", "producer", "position", "aggregate_id", "aggregate_version", "occurred_at",
            "actor", "correlation_id", "causation_id", "trace_parent", "payload", "_key"}


async def test_the_published_envelopes_say_what_who_when_why_and_where_from(journey):
    candidacy_events = await read_topic(journey, "cqp.candidacy.events")
    jury_events = await read_topic(journey, "cqp.jury.events")
    registered = next(e for e in candidacy_events if e["type"] == "CandidateRegistered")
    validated = next(e for e in jury_events if e["type"] == "BlockValidated")
    decided = next(e for e in jury_events if e["type"] == "JuryDecided")
    for envelope, producer in ((registered, "candidacy"), (validated, "jury"), (decided, "jury")):
        assert set(envelope) == ENVELOPE
        assert envelope["producer"] == producer
        assert envelope["version"] == {"CandidateRegistered": 3, "BlockValidated": 3, "CandidacyPresented": 2}.get(
            envelope["type"], 1)
        assert envelope["_key"] == envelope["aggregate_id"]  # keyed by aggregate: per-aggregate order
        assert set(envelope["actor"]) == {"user_id", "organisation_id", "role"}
        assert envelope["correlation_id"] and envelope["causation_id"]
    # The candidate's personal data travels only sealed with their own key, which the candidacy service keeps.
    assert set(registered["payload"]) == {"candidate_id", "personal", "status", "employer_id", "account",
                                          "invited_account"}
    assert registered["payload"]["personal"].startswith("pd1.") and "Martin" not in json.dumps(registered)
    assert validated["actor"]["role"] == "evaluator" and validated["payload"]["block"] in BLOCKS
    # So do the evaluator's name and the evidence, free text about the candidate (with a key of theirs, in the jury).
    assert validated["payload"]["personal"].startswith("pd1.") and "J. Dupont" not in json.dumps(validated)
    assert decided["payload"]["decision"] == "FULL_AWARD" and len(decided["payload"]["members_present"]) == 4
    assert len({e["event_id"] for e in jury_events}) == len(jury_events)


async def test_a_double_presentation_is_refused_and_a_vae_candidacy_waits_for_its_admissibility(journey):
    candidate = await ok(journey, "registerCandidate", "RegisterCandidateInput",
                         {"givenName": "Lou", "familyName": "Petit", "email": "lou@example.org", "status": "EMPLOYEE"},
                         "lou-r", "... on CandidateRegistered { candidate { id } }")
    opened = await once_known(journey, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate["candidate"]["id"], "certification": "RNCP34174", "route": "VAE",
        "evaluatorId": journey.centre, "experience": EXPERIENCE}, "lou-o", "... on CandidacyChanged { candidacy { id } }")
    candidacy = opened["candidacy"]["id"]
    await ok(journey, "positionCandidacy", "CandidacyInput", {"candidacyId": candidacy}, "lou-p")
    for n, block in enumerate(BLOCKS):
        await evaluate(journey, candidacy, block, True, f"lou-e{n}")
    first, _ = await paritaire_session(journey, TODAY, "lou-s1")
    second, _ = await paritaire_session(journey, TODAY, "lou-s2")
    not_ready = await mutate(journey, "presentCandidacy", "PresentCandidacyInput",
                             {"sessionId": first, "candidacyId": candidacy}, "lou-present-0")
    assert (not_ready["code"], not_ready["details"]["needed"]) == ("NotReadyForJury", ["VALIDATION_FILE_SUBMITTED"])
    await attach_paper(journey, candidacy, "LIVRET_1", "lou-d1")
    await ok(journey, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy}, "lou-l1")
    await ok(journey, "decideAdmissibility", "DecideAdmissibilityInput",
             {"candidacyId": candidacy, "admissible": True, "reason": "recevable"}, "lou-adm")
    await attach_paper(journey, candidacy, "LIVRET_2", "lou-d2")
    await ok(journey, "submitValidationFile", "CandidacyInput", {"candidacyId": candidacy}, "lou-l2")

    await present(journey, first, candidacy, "lou-present-1")  # once the jury learns the new status
    elsewhere = await mutate(journey, "presentCandidacy", "PresentCandidacyInput",
                             {"sessionId": second, "candidacyId": candidacy}, "lou-present-2")
    assert (elsewhere["code"], elsewhere["details"]["session_id"]) == ("PresentedElsewhere", first)


async def test_a_correction_revokes_the_certificate_and_verification_says_so(journey):
    _, candidacy = await vae_candidacy(journey, "Noa", "noa")
    for n, block in enumerate(BLOCKS):
        await evaluate(journey, candidacy, block, True, f"noa-e{n}")
    session_id, members = await paritaire_session(journey, TODAY, "noa-s")

    await present(journey, session_id, candidacy, "noa-present")
    number = (await decide(journey, session_id, candidacy, "FULL_AWARD", members, "noa-d"))["certificateNumber"]
    await published(journey, session_id, "noa")
    correction = {"sessionId": session_id, "candidacyId": candidacy, "decision": "REFUSAL",
                  "reason": "fraude établie au dossier"}
    corrected = await mutate(journey, "correctDecision", "CorrectDecisionInput", correction, "noa-c")
    assert "code" not in corrected, corrected
    verified = await journey.graphql(
        "query($n: String!) { verifyCertificate(number: $n) { valid revokedOn revocationReason } }",
        {"n": number}, token=None)
    assert verified["verifyCertificate"] == {"valid": False, "revokedOn": TODAY,
                                             "revocationReason": "decision corrected: fraude établie au dossier"}
    into_award = await mutate(journey, "correctDecision", "CorrectDecisionInput",
                              {**correction, "decision": "PARTIAL_VALIDATION", "reason": "blocs acquis"}, "noa-c2",
                              "... on JurySessionChanged { certificateNumber }")
    assert into_award["certificateNumber"] and into_award["certificateNumber"] != number


async def test_a_sessions_roster_and_exports_show_its_candidates_results_and_holders_to_its_branch_only(journey):
    sessions = await journey.graphql('{ jurySessions(filter: {branch: "UIMM"}) { edges { node { id roster {'
                                     ' familyName givenName route decision blocks { code presented result } } } } } }')
    session = next(e["node"] for e in sessions["jurySessions"]["edges"]
                   if any(r["givenName"] == "Camille" for r in e["node"]["roster"]))
    camille = next(r for r in session["roster"] if r["givenName"] == "Camille")
    assert (camille["route"], camille["decision"]) == ("VAE", "FULL_AWARD")
    assert [(b["code"], b["result"]) for b in camille["blocks"]] == [(b, "VALIDATED") for b in BLOCKS]

    async with httpx.AsyncClient(base_url=journey["gateway"].url, timeout=30) as http:
        branch = {"authorization": f"Bearer {await journey.token()}"}
        sheet = await http.get(f"/exports/sessions/{session['id']}/roster.csv", headers=branch)
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(sheet.text)))
        assert {(line["given_name"], line["block"], line["result"]) for line in lines if line["given_name"] == "Camille"} \
            == {("Camille", b, "VALIDATED") for b in BLOCKS}
        decisions = list(csv.DictReader(io.StringIO(
            (await http.get(f"/exports/sessions/{session['id']}/decisions.csv", headers=branch)).text)))
        assert any(d["given_name"] == "Camille" and d["decision"] == "FULL_AWARD" and d["certificate"] for d in decisions)
        holders = list(csv.DictReader(io.StringIO(
            (await http.get("/exports/branches/UIMM/holders.csv", params={"from": TODAY, "to": TODAY},
                            headers=branch)).text)))
        assert "Camille Martin" in {h["holder"] for h in holders}

        other_branch = await journey.token(organisation="UIMM", role="evaluator")  # not a branch role
        assert (await http.get(f"/exports/sessions/{session['id']}/roster.csv",
                               headers={"authorization": f"Bearer {other_branch}"})).status_code == 404
        hidden = await http.get("/exports/branches/UIMM/holders.csv", headers={"authorization": f"Bearer {other_branch}"})
        assert list(csv.DictReader(io.StringIO(hidden.text))) == []
        assert (await http.get(f"/exports/sessions/{session['id']}/roster.csv")).status_code == 401


async def test_holders_are_declared_to_the_caisse_des_depots_in_a_valid_file_and_the_portals_report_applied(
        journey, tmp_path):
    awards = {}
    for name, sex, insee in (("Eve", "F", "75115"), ("Jules", "M", "69123")):
        holder = {"birthName": "Martin", "firstNames": [name], "sex": sex, "birthCommuneInsee": insee}
        _, candidacy = await vae_candidacy(journey, name, f"cdc-{name}", holder)
        for n, block in enumerate(BLOCKS):
            await evaluate(journey, candidacy, block, True, f"cdc-{name}-e{n}")
        session_id, members = await paritaire_session(journey, TODAY, f"cdc-{name}-s")

        await present(journey, session_id, candidacy, f"cdc-{name}-p")
        decided = await decide(journey, session_id, candidacy, "FULL_AWARD", members, f"cdc-{name}-d")
        awards[name] = decided["certificateNumber"]

    certifier = await journey.token(organisation="UIMM", role="certifier", branches=("UIMM",))
    env = {**os.environ, "CQP_POSTGRES_DSN": journey.dsn, "CQP_JURY_URL": journey["jury"].url, "CQP_TOKEN": certifier,
           "CQP_CANDIDACY_URL": journey["candidacy"].url,
           "CQP_CDC_CLIENT_ID": "03VML243", "CQP_CDC_CONTRACT_ID": "MCFCER000209"}

    def cqp(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)

    first = tmp_path / "flux-1.xml"
    done = cqp("cdc", "export", "--branch", "UIMM", "--to", str(first))
    assert done.returncode == 0, done.stderr
    assert "holders declared" in done.stdout and "lacks: birth name" in done.stdout  # earlier holders, no data
    document = xmlschema.XMLSchema(ROOT / "services/jury/cdc/certifications-cdc-1.1.2.xsd")
    document.validate(str(first))  # the official schema, checked by a schema validator
    declared = set(re.findall(r"<cpf:idTechnique>([^<]+)<", first.read_text()))
    assert declared == set(awards.values())
    flux_id = re.search(r"<cpf:idFlux>([^<]+)<", first.read_text())[1]
    again = cqp("cdc", "export", "--branch", "UIMM", "--to", str(tmp_path / "flux-2.xml"))
    assert "nothing to declare" in again.stdout and not (tmp_path / "flux-2.xml").exists()

    report = tmp_path / "compte-rendu.xml"
    report.write_text(f"""<compteRendu><idFlux>{flux_id}</idFlux>
      <passagesOK><passage><idTechnique>{awards['Eve']}</idTechnique></passage></passagesOK>
      <passagesKO><passage><idTechnique>{awards['Jules']}</idTechnique>
        <erreurs><erreur><message>Code commune inconnu</message></erreur></erreurs></passage></passagesKO>
    </compteRendu>""")
    applied = cqp("cdc", "report", str(report))
    assert applied.returncode == 0, applied.stderr
    assert f"{awards['Eve']}: accepted" in applied.stdout and f"{awards['Jules']}: rejected" in applied.stdout

    async def states():
        rows = await journey.sql("SELECT number, declaration_state, declaration_messages FROM gateway.certificates"
                                 " WHERE number = ANY($1)", list(awards.values()))
        found = {r["number"]: (r["declaration_state"], r["declaration_messages"]) for r in rows}
        return found if {s for s, _ in found.values()} == {"ACCEPTED", "REJECTED"} else None

    found = await eventually(states)
    assert found[awards["Jules"]][1] == '["Code commune inconnu"]'
    third = tmp_path / "flux-3.xml"  # the rejected passage goes in the next file, the accepted one never again
    assert cqp("cdc", "export", "--branch", "UIMM", "--to", str(third)).returncode == 0
    assert set(re.findall(r"<cpf:idTechnique>([^<]+)<", third.read_text())) == {awards["Jules"]}
    missing = cqp("cdc", "export", "--branch", "NOPE", "--to", str(tmp_path / "x.xml"))
    assert missing.returncode == 2 and missing.stderr.strip() == "cqp: no such branch in the catalog: NOPE"


async def test_a_certificate_verifies_as_valid_only_with_its_holder_named(journey):
    """Just after an award the candidacy service, which names the holder, may not know it yet: the certificate
    verifies then as not valid (holder withheld), never as a valid certificate of nobody."""
    _, candidacy = await vae_candidacy(journey, "Noé", "holder")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(journey, candidacy, block, True, f"holder-e{n}"))["validated"]
    session_id, members = await paritaire_session(journey, TODAY, "s-holder")
    await present(journey, session_id, candidacy, "holder-present")
    await published(journey, session_id, "holder")  # before the award: only the holder's name is awaited below
    # The candidacy service's consumer held back (its insert waits on the lock; reads go on): the moment
    # between the gateway applying the award and the candidacy service doing so, made to last.
    held = await asyncpg.connect(journey.dsn)
    try:
        async with held.transaction():
            await held.execute("LOCK TABLE candidacy.certificates_held IN EXCLUSIVE MODE")
            awarded = await decide(journey, session_id, candidacy, "FULL_AWARD", members, "holder-d")
            number = awarded["certificateNumber"]
            verified = await journey.graphql("query($n: String!) { verifyCertificate(number: $n) { valid holder } }",
                                             {"n": number}, token=None)
            assert verified["verifyCertificate"] == {"valid": False, "holder": "[withheld]"}
    finally:
        await held.close()
    assert await verified_once_valid(journey, number, "holder") == {"valid": True, "holder": "Noé Martin"}
