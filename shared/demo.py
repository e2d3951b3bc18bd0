"""A small demo data set, loaded through the public GraphQL API like any client would.

Real certifications from the France Compétences open data (UIMM CQPM fiches). Idempotent:
each mutation carries a fixed idempotency key, so loading twice changes nothing.
"""

from __future__ import annotations

import httpx

from shared.auth import issue_token
from shared.context import Actor

CERTIFICATIONS = [
    {
        "code": "RNCP34174",
        "kind": "CQPM",
        "title": "CQPM RNCP34174 (conduite d'installations automatisées et maintenance de niveau 2)",
        "branch": "UIMM",
        "blocks": [
            {"code": "RNCP34174BC01", "title": "La conduite et la surveillance de la production de plusieurs"
             " installations automatisées ou robotisées de moyenne ou grande série"},
            {"code": "RNCP34174BC02", "title": "Les interventions de maintenance de niveau 2"},
            {"code": "RNCP34174BC03", "title": "La contribution à l’amélioration continue"},
        ],
    },
]

CANDIDATES = [
    {"givenName": "Camille", "familyName": "Martin", "email": "camille.martin@example.org",
     "certificationCode": "RNCP34174"},
]

CREATE = """mutation($input: CreateCertificationInput!, $key: String!) {
  createCertification(input: $input, idempotencyKey: $key) {
    __typename ... on Error { code message } } }"""
REGISTER = """mutation($input: RegisterCandidateInput!, $key: String!) {
  registerCandidate(input: $input, idempotencyKey: $key) {
    __typename ... on Error { code message } } }"""


async def load(graphql_url: str, auth_secret: str) -> int:
    token = issue_token(auth_secret, Actor(user_id="demo-loader", organisation_id="UIMM", role="branch-admin"))
    failures = 0
    async with httpx.AsyncClient(timeout=60, headers={"authorization": f"Bearer {token}"}) as http:
        steps = [(CREATE, c, f"demo-certification-{c['code']}") for c in CERTIFICATIONS]
        steps += [(REGISTER, c, f"demo-candidate-{c['email']}") for c in CANDIDATES]
        for query, data, key in steps:
            answer = (await http.post(graphql_url, json={"query": query, "variables": {"input": data, "key": key}})).json()
            result = next(iter((answer.get("data") or {}).values()), None)
            if not result or "code" in result:
                failures += 1
                print(f"demo: {key}: {result or answer.get('errors')}")
    print(f"demo data loaded ({len(steps) - failures}/{len(steps)} commands accepted)")
    return 1 if failures else 0
