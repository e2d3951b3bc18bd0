"""A small demo data set, loaded through the public GraphQL API like any client would.

Real blocks of a UIMM CQPM from the France Compétences open data. Idempotent: each mutation has a
fixed idempotency key, so loading twice changes nothing.
"""

from __future__ import annotations

import asyncio

import httpx

from shared.auth import issue_token
from shared.context import Actor

BRANCH = {"code": "UIMM", "name": "Union des industries et métiers de la métallurgie", "idcc": ["3109"],
          "cpne": "Commission paritaire nationale de l'emploi de la métallurgie"}
CENTRE = {"name": "Centre d'évaluation de démonstration", "kinds": ["EVALUATION_CENTRE", "TRAINING_ORGANISATION"]}
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
CANDIDATE = {"givenName": "Camille", "familyName": "Martin", "email": "camille.martin@example.org",
             "status": "EMPLOYEE"}

STEPS = [
    ("createBranch", "CreateBranchInput", BRANCH, "demo-branch-UIMM", "branch { code }"),
    ("registerOrganisation", "RegisterOrganisationInput", CENTRE, "demo-centre", "organisation { id }"),
    ("createCertification", "CreateCertificationInput", CERTIFICATION, "demo-certification-RNCP34174",
     "certification { code }"),
    ("accredit", "AccreditInput", None, "demo-accreditation", "accreditation { id }"),
    ("registerCandidate", "RegisterCandidateInput", CANDIDATE, "demo-candidate-camille", "candidate { id }"),
    ("openCandidacy", "OpenCandidacyInput", None, "demo-candidacy-camille", "candidacy { id }"),
]


async def load(graphql_url: str, auth_secret: str) -> int:
    token = issue_token(auth_secret, Actor(user_id="demo-loader", organisation_id="UIMM", role="branch-admin"))
    done, results = 0, {}
    async with httpx.AsyncClient(timeout=60, headers={"authorization": f"Bearer {token}"}) as http:
        for mutation, input_type, data, key, selection in STEPS:
            centre = results.get("registerOrganisation", {}).get("organisation", {}).get("id")
            if mutation == "accredit":
                data = {"organisationId": centre, "branch": "UIMM", "certifications": ["RNCP34174"],
                        "scope": "EVALUATION", "validFrom": "2024-01-01"}
            elif mutation == "openCandidacy":
                data = {"candidateId": results["registerCandidate"]["candidate"]["id"], "certification": "RNCP34174",
                        "route": "TRAINING", "evaluatorId": centre, "trainerId": centre}
            query = (f"mutation($input: {input_type}!, $key: String!) {{ {mutation}(input: $input, idempotencyKey: $key)"
                     f" {{ __typename ... on Error {{ code message }} ... on {_success(mutation)} {{ {selection} }} }} }}")
            for _ in range(60):
                answer = (await http.post(graphql_url, json={"query": query,
                                                             "variables": {"input": data, "key": key}})).json()
                result = (answer.get("data") or {}).get(mutation)
                # The candidacy service learns the catalog through Kafka: give it a moment (same key, so safe).
                if not result or result.get("code") not in ("UnknownCertification", "NotEligible"):
                    break
                await asyncio.sleep(0.5)
            if not result or result["__typename"] != _success(mutation):
                print(f"demo: {mutation} failed: {result or answer.get('errors')}")
                return 1
            results[mutation] = result
            done += 1
    print(f"demo data loaded ({done} commands accepted)")
    return 0


def _success(mutation: str) -> str:
    return {"createBranch": "BranchCreated", "registerOrganisation": "OrganisationRegistered",
            "createCertification": "CertificationChanged", "accredit": "AccreditationChanged",
            "registerCandidate": "CandidateRegistered", "openCandidacy": "CandidacyChanged"}[mutation]
