"""A VAE candidacy end to end on real Kafka and PostgreSQL, through GraphQL only (SQL is read only to
wait for the candidacy service's own view of the catalog)."""

import csv
import os
import subprocess
import sys

import pytest_asyncio

from shared.http import idempotency_digest
from tests.documents import attach_paper
from tests.harness import ROOT, System, eventually

OK = {"BranchCreated", "OrganisationRegistered", "CertificationChanged", "AccreditationChanged",
      "CandidateRegistered", "CandidacyChanged"}
CANDIDACY = """id status route version experienceMonths eligibilityConfirmedOn
  certification { code } evaluator { name }
  blocks { code title state } path { block hours modules }
  fundings { id funder amount status grantedAmount reason }
  admissibility { status reason }
  history { type occurredAt actor { userId organisationId role } causationId }"""


async def mutate(system, name, type_, data, key, selection="", token="default"):
    query = (f"mutation($input: {type_}!, $key: String!) {{ {name}(input: $input, idempotencyKey: $key) {{"
             f" __typename ... on Error {{ code message details }} ... on InvalidInput {{ problems {{ field problem }} }}"
             f" {selection} }} }}")
    return (await system.graphql(query, {"input": data, "key": key}, token=token))[name]


async def ok(system, name, type_, data, key, selection=""):
    result = await mutate(system, name, type_, data, key, selection)
    assert result["__typename"] in OK, result
    return result


async def read_candidacy(system, candidacy_id):
    query = f"query($id: ID!) {{ candidacy(id: $id) {{ {CANDIDACY} }} }}"
    return (await system.graphql(query, {"id": candidacy_id}))["candidacy"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    system = await System.create()
    await system.start()
    await ok(system, "createBranch", "CreateBranchInput", {"code": "UIMM", "name": "Métallurgie", "idcc": ["3109"]}, "b")
    centre = await ok(system, "registerOrganisation", "RegisterOrganisationInput",
                      {"name": "AFPI Démo", "kinds": ["EVALUATION_CENTRE", "TRAINING_ORGANISATION"]}, "o",
                      "... on OrganisationRegistered { organisation { id } }")
    system.centre = centre["organisation"]["id"]
    await ok(system, "createCertification", "CreateCertificationInput", {
        "code": "RNCP34174", "kind": "CQPM", "title": "CQPM conduite d'installations automatisées", "owners": ["UIMM"],
        "blocks": [{"code": "RNCP34174BC01", "title": "La conduite et la surveillance de la production"},
                   {"code": "RNCP34174BC02", "title": "Les interventions de maintenance de niveau 2"},
                   {"code": "RNCP34174BC03", "title": "La contribution à l’amélioration continue"}]}, "c")
    await ok(system, "recordRegistration", "RecordRegistrationInput", {
        "code": "RNCP34174", "registry": "RNCP", "number": "RNCP34174", "level": "NIV3", "decisionDate": "2024-01-15",
        "endDate": "2029-01-15", "routes": ["FC", "CQ", "VAE"]}, "r")
    await ok(system, "accredit", "AccreditInput", {"organisationId": system.centre, "branch": "UIMM",
                                                     "certifications": ["RNCP34174"], "scope": "EVALUATION",
                                                     "validFrom": "2024-01-01"}, "a")

    async def candidacy_service_knows_it_all():
        rows = await system.sql("SELECT c.end_date, (SELECT count(*) FROM candidacy.catalog_accreditations) AS a"
                                " FROM candidacy.catalog_certifications c WHERE code = 'RNCP34174'")
        return rows and rows[0]["end_date"] is not None and rows[0]["a"] == 1

    await eventually(candidacy_service_knows_it_all)
    yield system
    system.stop()


async def register(system, key):
    result = await ok(system, "registerCandidate", "RegisterCandidateInput",
                      {"givenName": "Camille", "familyName": "Martin", "email": "camille.martin@example.org",
                       "birthDate": "1990-04-02", "status": "EMPLOYEE"}, key, "... on CandidateRegistered { candidate { id } }")
    return result["candidate"]["id"]


EXPERIENCE = [{"start": "2019-09-01", "end": "2024-08-31", "activity": "Conducteur de ligne automatisée"}]


async def test_a_vae_candidacy_opened_positioned_and_declared_admissible(world):
    candidate_id = await register(world, "cand-1")
    opened = await ok(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": world.centre,
        "experience": EXPERIENCE}, "open-1", "... on CandidacyChanged { candidacy { id status version } }")
    candidacy_id = opened["candidacy"]["id"]
    assert opened["candidacy"]["status"] == "OPEN" and opened["candidacy"]["version"] == 1

    position = await ok(world, "positionCandidacy", "CandidacyInput", {"candidacyId": candidacy_id}, "pos-1")
    assert position["__typename"] == "CandidacyChanged"
    funding = await ok(world, "requestFunding", "RequestFundingInput",
                       {"candidacyId": candidacy_id, "funder": "OPCO", "amount": "1800.00"}, "fund-1",
                       "... on CandidacyChanged { candidacy { fundings { id } } }")
    funding_id = funding["candidacy"]["fundings"][0]["id"]
    await ok(world, "decideFunding", "DecideFundingInput",
             {"candidacyId": candidacy_id, "fundingId": funding_id, "granted": True}, "fund-2")
    await attach_paper(world, candidacy_id, "LIVRET_1", "doc-1")
    await ok(world, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, "adm-1")
    await ok(world, "decideAdmissibility", "DecideAdmissibilityInput",
             {"candidacyId": candidacy_id, "admissible": True, "reason": "Livret 1 complet et recevable"}, "adm-2")

    candidacy = await read_candidacy(world, candidacy_id)
    assert candidacy["status"] == "ADMISSIBLE" and candidacy["route"] == "VAE"
    assert candidacy["experienceMonths"] == 60  # five years
    assert candidacy["evaluator"] == {"name": "AFPI Démo"}
    assert [(b["code"], b["state"]) for b in candidacy["blocks"]] == [
        ("RNCP34174BC01", "TO_ACQUIRE"), ("RNCP34174BC02", "TO_ACQUIRE"), ("RNCP34174BC03", "TO_ACQUIRE")]
    assert candidacy["blocks"][1]["title"] == "Les interventions de maintenance de niveau 2"
    assert candidacy["fundings"][0] | {"id": None} == {"id": None, "funder": "OPCO", "amount": "1800.00",
                                                      "status": "GRANTED", "grantedAmount": "1800.00", "reason": None}
    assert candidacy["admissibility"] == {"status": "ADMISSIBLE", "reason": "Livret 1 complet et recevable"}
    assert [h["type"] for h in candidacy["history"]] == [
        "CandidacyOpened", "CandidacyPositioned", "FundingRequested", "FundingDecided", "DocumentAttached",
        "AdmissibilityFiled", "AdmissibilityDecided"]
    # Every step by the tests' operator (tests/harness.py): the organisation its token names.
    assert {h["actor"]["organisationId"] for h in candidacy["history"]} == {"platform"}
    # The client's key shows only as its keyed digest (the key may be a person's name).
    digest = idempotency_digest(world["candidacy"].env["CQP_COMMAND_KEY"], "open-1")
    assert candidacy["history"][0]["causationId"] == digest

    listed = await world.graphql('{ candidacies(filter: {route: VAE, status: ADMISSIBLE, branch: "UIMM", text: "martin"})'
                                 ' { totalCount edges { node { id } } } }')
    assert listed["candidacies"]["totalCount"] == 1 and listed["candidacies"]["edges"][0]["node"]["id"] == candidacy_id

    # Personal data never travels in clear: the candidacy service's events are encrypted at rest.
    rows = await world.sql("SELECT state FROM candidacy.candidacy_events")
    assert rows and not any(b"Martin" in bytes(r["state"]) or b"1990-04-02" in bytes(r["state"]) for r in rows)


async def test_a_second_candidacy_for_the_same_certification_is_refused_and_writes_nothing(world):
    candidate_id = await register(world, "cand-2")
    opening = {"candidateId": candidate_id, "certification": "RNCP34174", "route": "TRAINING",
               "evaluatorId": world.centre}
    await ok(world, "openCandidacy", "OpenCandidacyInput", opening, "open-2a")
    written = await world.written("candidacy")
    again = await mutate(world, "openCandidacy", "OpenCandidacyInput", opening, "open-2b")
    assert (again["__typename"], again["code"]) == ("Conflict", "CandidacyAlreadyOpen")
    assert await world.written("candidacy") == written


async def test_a_vae_candidacy_without_enough_experience_is_not_eligible(world):
    candidate_id = await register(world, "cand-3")
    short = [{"start": "2024-01-01", "end": "2024-03-31", "activity": "Intérim"}]
    result = await mutate(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": world.centre,
        "experience": short}, "open-3")
    assert (result["__typename"], result["code"]) == ("Refused", "NotEligible")
    assert result["details"]["failures"] == [{"rule": "NotEnoughExperience", "needed_months": 12, "declared_months": 3}]  # January to March: three calendar months


async def test_a_step_out_of_order_is_a_typed_error(world):
    candidate_id = await register(world, "cand-4")
    opened = await ok(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "TRAINING", "evaluatorId": world.centre},
        "open-4", "... on CandidacyChanged { candidacy { id } }")
    result = await mutate(world, "submitValidationFile", "CandidacyInput",
                          {"candidacyId": opened["candidacy"]["id"]}, "sub-4")
    assert (result["__typename"], result["code"]) == ("Refused", "TransitionRefused")


async def test_each_step_is_for_the_roles_the_lifecycle_names(world):
    candidate_id = await register(world, "cand-6")
    opened = await ok(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": world.centre,
        "experience": EXPERIENCE}, "open-6", "... on CandidacyChanged { candidacy { id } }")
    candidacy = {"candidacyId": opened["candidacy"]["id"]}
    evaluator = await world.token(organisation=world.centre, role="evaluator")
    await attach_paper(world, candidacy["candidacyId"], "LIVRET_1", "doc-6", token=evaluator)
    assert (await mutate(world, "fileAdmissibility", "CandidacyInput", candidacy, "adm-6a", token=evaluator)
            )["__typename"] == "CandidacyChanged"
    decision = {**candidacy, "admissible": True, "reason": "recevable"}
    refused = await mutate(world, "decideAdmissibility", "DecideAdmissibilityInput", decision, "adm-6b", token=evaluator)
    assert (refused["__typename"], refused["details"]["allowed"]) == ("Forbidden", ["branch-admin", "certifier"])
    certifier = await world.token(organisation="UIMM", role="certifier", branches=("UIMM",))
    accepted = await mutate(world, "decideAdmissibility", "DecideAdmissibilityInput", decision, "adm-6c",
                            token=certifier, selection="... on CandidacyChanged { candidacy { history { actor { role } } } }")
    assert [h["actor"]["role"] for h in accepted["candidacy"]["history"]][-2:] == ["evaluator", "certifier"]


async def test_eligibility_rules_through_graphql_each_with_its_reason(world):
    await ok(world, "createCertification", "CreateCertificationInput", {
        "code": "RS6117", "kind": "CQP", "title": "CQP Tourier", "owners": ["UIMM"],
        "blocks": [{"code": "RS6117BC01", "title": "Tourage"}]}, "c-rs")
    await ok(world, "recordRegistration", "RecordRegistrationInput", {
        "code": "RS6117", "registry": "RS", "number": "RS6117", "endDate": "2029-09-29", "routes": ["FC", "VAE"]},
        "r-rs")
    candidate_id = await register(world, "cand-7")

    async def candidacy_service_knows_the_rs_registration():
        rows = await world.sql("SELECT registry FROM candidacy.catalog_certifications WHERE code = 'RS6117'")
        return rows and rows[0]["registry"] == "RS"

    await eventually(candidacy_service_knows_the_rs_registration)
    cases = [
        ({"certification": "RNCP34174", "route": "TRAINING", "evaluatorId": "00000000-0000-0000-0000-0000000000ee"},
         [{"rule": "EvaluatorNotAccredited", "organisation_id": "00000000-0000-0000-0000-0000000000ee"}]),
        ({"certification": "RS6117", "route": "VAE", "evaluatorId": world.centre, "experience": EXPERIENCE},
         [{"rule": "EvaluatorNotAccredited", "organisation_id": world.centre},
          {"rule": "VaeNeedsRncpRegistration", "registry": "RS"}]),
    ]
    for n, (opening, failures) in enumerate(cases):
        result = await mutate(world, "openCandidacy", "OpenCandidacyInput", {"candidateId": candidate_id, **opening},
                              f"open-7-{n}")
        assert (result["code"], result["details"]["failures"]) == ("NotEligible", failures)


# Last: it makes the certification expired for every test after it.
async def test_experience_dates_out_of_bounds_or_reversed_are_invalid_input_naming_the_field_and_write_nothing(world):
    """Any date a caller sends in experience periods, at the edges of the calendar or ending before it starts,
    is the typed InvalidInput naming the field (never a service failure answered as OutcomeUnknown)."""
    candidate_id = await register(world, "cand-dates")
    opened = await ok(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": world.centre,
        "experience": EXPERIENCE}, "open-dates", "... on CandidacyChanged { candidacy { id } }")
    candidacy_id = opened["candidacy"]["id"]
    written = await events_written(world)
    for periods, fields in [
        ([{"start": "0001-01-01", "end": "9999-12-31", "activity": "x"}], {"periods.0.start", "periods.0.end"}),
        ([EXPERIENCE[0], {"start": "2024-01-01", "end": "2023-12-31", "activity": "x"}], {"periods.1.end"}),
    ]:
        result = await mutate(world, "declareExperience", "DeclareExperienceInput",
                              {"candidacyId": candidacy_id, "periods": periods}, f"dates-{len(periods)}")
        assert result["__typename"] == "InvalidInput", result
        assert {p["field"] for p in result["problems"]} == fields
    reversed_opening = await mutate(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "TRAINING", "evaluatorId": world.centre,
        "experience": [{"start": "2024-01-01", "end": "2023-12-31", "activity": "x"}]}, "open-dates-2")
    assert reversed_opening["__typename"] == "InvalidInput", reversed_opening
    assert [p["field"] for p in reversed_opening["problems"]] == ["experience.0.end"]
    assert await events_written(world) == written


async def test_the_same_candidacy_is_refused_once_the_catalog_records_the_registration_as_expired(world):
    candidate_id = await register(world, "cand-5")
    opened = await ok(world, "openCandidacy", "OpenCandidacyInput", {
        "candidateId": candidate_id, "certification": "RNCP34174", "route": "VAE", "evaluatorId": world.centre,
        "experience": EXPERIENCE}, "open-5", "... on CandidacyChanged { candidacy { id } }")
    candidacy_id = opened["candidacy"]["id"]
    confirmed = await ok(world, "checkEligibility", "CandidacyInput", {"candidacyId": candidacy_id}, "elig-5a",
                         "... on CandidacyChanged { candidacy { eligibilityConfirmedOn } }")
    assert confirmed["candidacy"]["eligibilityConfirmedOn"] is not None

    await ok(world, "recordRegistration", "RecordRegistrationInput", {
        "code": "RNCP34174", "registry": "RNCP", "number": "RNCP34174", "level": "NIV3", "decisionDate": "2019-01-15",
        "endDate": "2024-01-15", "routes": ["FC", "CQ", "VAE"]}, "r-expired")

    async def candidacy_service_saw_it():
        rows = await world.sql("SELECT end_date FROM candidacy.catalog_certifications WHERE code = 'RNCP34174'")
        return str(rows[0]["end_date"]) == "2024-01-15"

    await eventually(candidacy_service_saw_it)
    await attach_paper(world, candidacy_id, "LIVRET_1", "doc-5")
    written = await world.written("candidacy")
    refused = await mutate(world, "checkEligibility", "CandidacyInput", {"candidacyId": candidacy_id}, "elig-5b")
    assert (refused["__typename"], refused["code"]) == ("Refused", "NotEligible")
    assert refused["details"]["failures"] == [{"rule": "CertificationExpired", "end_date": "2024-01-15"}]
    await ok(world, "fileAdmissibility", "CandidacyInput", {"candidacyId": candidacy_id}, "adm-5a")
    refused = await mutate(world, "decideAdmissibility", "DecideAdmissibilityInput",
                           {"candidacyId": candidacy_id, "admissible": True, "reason": "ok"}, "adm-5b")
    assert refused["code"] == "NotEligible"
    # Only the filing was written (its event and its command record), nothing of the refusals.
    assert await world.written("candidacy") == written + 2



async def test_a_bulk_registration_registers_every_good_line_once_and_reports_every_bad_one(world, tmp_path):
    # A certification of its own: earlier tests of this module change RNCP34174 (its registration expires).
    await ok(world, "createCertification", "CreateCertificationInput", {
        "code": "RNCP34999", "kind": "CQPM", "title": "CQPM pour l'import", "owners": ["UIMM"],
        "blocks": [{"code": "RNCP34999BC01", "title": "Bloc"}]}, "bulk-c")
    await ok(world, "accredit", "AccreditInput", {"organisationId": world.centre, "branch": "UIMM",
                                                    "certifications": ["RNCP34999"], "scope": "EVALUATION",
                                                    "validFrom": "2024-01-01"}, "bulk-a")

    async def candidacy_service_knows_it():
        rows = await world.sql("SELECT count(*) AS n FROM candidacy.catalog_accreditations"
                               " WHERE 'RNCP34999' = ANY(certifications)")
        return rows[0]["n"] == 1

    await eventually(candidacy_service_knows_it)
    bad = {17: {"email": "not-an-email"}, 230: {"status": "RETIRED"}, 404: {"birth_date": "1990-02-30"},
           611: {"family_name": ""}, 999: {"given_name": "Zo\u0001é"}}
    header = ["given_name", "family_name", "email", "status", "birth_date", "certification", "route", "evaluator_id"]
    rows = []
    for n in range(1000):
        row = {"given_name": f"Prénom{n}", "family_name": f"Nom{n}", "email": f"p{n}@example.org",
               "status": "EMPLOYEE", "birth_date": "1990-04-02"}
        if n % 50 == 0:  # some lines open a candidacy too
            row |= {"certification": "RNCP34999", "route": "TRAINING", "evaluator_id": world.centre}
        rows.append(row | bad.get(n, {}))
    path = tmp_path / "candidats.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, header)
        writer.writeheader()
        writer.writerows(rows)
    env = {**os.environ, "CQP_CANDIDACY_URL": world["candidacy"].url,
           "CQP_TOKEN": await world.token(organisation=world.centre, role="evaluator")}

    def run() -> str:
        done = subprocess.run([sys.executable, "-m", "tools.cli", "candidacy", "import", str(path)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    before = await registered(world)
    first = run()
    assert first.splitlines()[-1] == "995 lines accepted, 5 refused"
    refused_lines = [line for line in first.splitlines() if "refused:" in line]
    assert [int(line.split()[1].rstrip(":")) for line in refused_lines] == [n + 2 for n in sorted(bad)]  # + header
    assert await registered(world) == before + 995
    opened = [line for line in first.splitlines() if "candidacy" in line and "accepted" in line]
    assert len(opened) == 20
    again = run()
    assert again.splitlines()[-1] == "995 lines accepted, 5 refused"
    assert await registered(world) == before + 995  # the same file twice registers nothing new


async def registered(world) -> int:
    rows = await world.sql("SELECT count(*) AS n FROM candidacy.candidacy_events WHERE topic LIKE '%Candidate.Registered'")
    return rows[0]["n"]


async def events_written(world) -> int:
    return await world.written("candidacy")
