"""A small demo data set, loaded through the public GraphQL API like any client would, as the demo
users of the identity provider's realm (deploy/keycloak/cqp-realm.json).

Real blocks of a UIMM CQPM from the France Compétences open data. The organisations have SIRETs, so
their catalog ids are the ones the realm's groups carry. Idempotent: each mutation has a fixed
idempotency key, so loading twice changes nothing.
"""

from __future__ import annotations

import asyncio

import httpx

from shared.identity import password_token

BRANCHES = [
    {"code": "UIMM", "name": "Union des industries et métiers de la métallurgie", "idcc": ["3109"],
     "cpne": "Commission paritaire nationale de l'emploi de la métallurgie"},
    {"code": "PLASTURGIE", "name": "Fédération de la plasturgie et des composites", "idcc": ["0292"],
     "cpne": "CPNE de la plasturgie"},
]
# Realm group name -> the organisation (its catalog id derives from the SIRET).
ORGANISATIONS = {
    "centre-nord": {"name": "AFPI démo Nord", "siret": "77567227300010",
                    "kinds": ["EVALUATION_CENTRE", "TRAINING_ORGANISATION"]},
    "centre-sud": {"name": "AFPI démo Sud", "siret": "44306184100021", "kinds": ["EVALUATION_CENTRE"]},
    "formation": {"name": "Organisme de formation démo", "siret": "33012345600018",
                  "kinds": ["TRAINING_ORGANISATION"]},
    "opco": {"name": "OPCO démo", "siret": "85261098700015", "kinds": ["FUNDER"]},
    "employeur": {"name": "Entreprise démo", "siret": "52310774600024", "kinds": ["EMPLOYER"]},
}
CERTIFICATION = {
    "code": "RNCP34174",
    "kind": "CQPM",
    "title": "CQPM conduite d'installations automatisées et maintenance de niveau 2",
    "owners": ["UIMM"],
    "effectiveFrom": "2020-01-01",
    "blocks": [
        {"code": "RNCP34174BC01", "title": "La conduite et la surveillance de la production de plusieurs"
         " installations automatisées ou robotisées de moyenne ou grande série"},
        {"code": "RNCP34174BC02", "title": "Les interventions de maintenance de niveau 2"},
        {"code": "RNCP34174BC03", "title": "La contribution à l\u2019amélioration continue"},
    ],
}
# Her login is the realm's demo user `candidat`: once she confirms it, she sees her own record and candidacy.
CANDIDATE = {"givenName": "Camille", "familyName": "Martin", "email": "camille.martin@example.org",
             "status": "EMPLOYEE", "account": "candidat"}

SUCCESS = {"createBranch": ("BranchCreated", "branch { code }"),
           "registerOrganisation": ("OrganisationRegistered", "organisation { id }"),
           "createCertification": ("CertificationChanged", "certification { code }"),
           "accredit": ("AccreditationChanged", "accreditation { id }"),
           "registerCandidate": ("CandidateRegistered", "candidate { id }"),
           "confirmAccount": ("CandidateChanged", "candidate { id }"),
           "openCandidacy": ("CandidacyChanged", "candidacy { id }")}


class DemoFailed(RuntimeError):
    pass


async def load(graphql_url: str, issuer: str, password: str) -> int:
    async with httpx.AsyncClient(timeout=60) as http:
        async def as_user(user: str):
            token = await password_token(issuer, "cqp-cli", user, password, http)

            async def mutate(mutation: str, input_type: str, data: dict, key: str) -> dict:
                return await _mutate(http, graphql_url, token, mutation, input_type, data, key)

            return mutate

        try:
            admin = await as_user("admin")
            for branch in BRANCHES:
                await admin("createBranch", "CreateBranchInput", branch, f"demo-branch-{branch['code']}")
            ids = {}
            for group, organisation in ORGANISATIONS.items():
                result = await admin("registerOrganisation", "RegisterOrganisationInput", organisation,
                                     f"demo-organisation-{group}")
                ids[group] = result["organisation"]["id"]
            uimm = await as_user("uimm-admin")
            await uimm("createCertification", "CreateCertificationInput", CERTIFICATION, "demo-certification-RNCP34174")
            for centre in ("centre-nord", "centre-sud"):
                await uimm("accredit", "AccreditInput", {
                    "organisationId": ids[centre], "branch": "UIMM", "certifications": ["RNCP34174"],
                    "scope": "EVALUATION", "validFrom": "2024-01-01"}, f"demo-accreditation-{centre}")
            candidate = await uimm("registerCandidate", "RegisterCandidateInput", CANDIDATE, "demo-candidate-camille")
            camille = await as_user(CANDIDATE["account"])  # the person confirms the login named for her
            await camille("confirmAccount", "ConfirmAccountInput", {"candidateId": candidate["candidate"]["id"]},
                          "demo-candidate-camille-confirms")
            await uimm("openCandidacy", "OpenCandidacyInput", {
                "candidateId": candidate["candidate"]["id"], "certification": "RNCP34174", "route": "TRAINING",
                "evaluatorId": ids["centre-nord"], "trainerId": ids["formation"]}, "demo-candidacy-camille")
        except DemoFailed as failure:
            print(f"demo: {failure}")
            return 1
    print("demo data loaded")
    return 0


async def _mutate(http: httpx.AsyncClient, graphql_url: str, token: str, mutation: str, input_type: str,
                  data: dict, key: str) -> dict:
    success, selection = SUCCESS[mutation]
    query = (f"mutation($input: {input_type}!, $key: String!) {{ {mutation}(input: $input, idempotencyKey: $key)"
             f" {{ __typename ... on Error {{ code message }} ... on {success} {{ {selection} }} }} }}")
    for _ in range(60):
        answer = (await http.post(graphql_url, json={"query": query, "variables": {"input": data, "key": key}},
                                  headers={"authorization": f"Bearer {token}"})).json()
        result = (answer.get("data") or {}).get(mutation)
        # The candidacy service learns the catalog through Kafka: give it a moment (same key, so safe).
        if not result or result.get("code") not in ("UnknownCertification", "NotEligible"):
            break
        await asyncio.sleep(0.5)
    if not result or result["__typename"] != success:
        raise DemoFailed(f"{mutation} failed: {result or answer.get('errors')}")
    return result
