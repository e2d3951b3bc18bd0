"""Property-based fuzzing of the live gateway (hypothesis-graphql): queries generated from the checked-in
schema, with the ids of two organisations' records as values, sent with the tokens of several
organisations. No answer is a server error, and none shows a record of another organisation."""

from __future__ import annotations

import anyio
import graphql
import httpx
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from tools.cli import SDL_PATH
from tests.harness import System, eventually

EXAMPLES = 120


async def ok(system, mutation: str, variables: dict, token="default") -> dict:
    data = await system.graphql(mutation, variables, token=token)
    result = next(iter(data.values()))
    assert "code" not in result, result
    return result


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world():
    """Two branches, each with its certification, evaluation centre, candidate and candidacy; each
    candidate's family name is a marker that only its side may ever read."""
    w = await System.create()
    await w.start()
    w.sides = {}
    for branch, code in (("UIMM", "RNCP91001"), ("LEEM", "RNCP91002")):
        await ok(w, 'mutation($b: String!) { createBranch(input: {code: $b, name: $b}, idempotencyKey: $b)'
                    ' { __typename ... on Error { code } } }', {"b": branch})
        centre = await ok(w, 'mutation($n: String!) { registerOrganisation(input: {name: $n, kinds: [EVALUATION_CENTRE]},'
                             ' idempotencyKey: $n) { __typename ... on OrganisationRegistered { organisation { id } } } }',
                          {"n": f"centre-{branch}"})
        centre = centre["organisation"]["id"]
        await ok(w, 'mutation($c: String!, $b: String!) { createCertification(input: {code: $c, kind: CQP, title: $c,'
                    ' owners: [$b], blocks: [{code: "BC01", title: "Bloc"}]}, idempotencyKey: $c)'
                    ' { __typename ... on Error { code } } }', {"c": code, "b": branch})
        await ok(w, 'mutation($o: ID!, $b: String!, $c: String!, $k: String!) { accredit(input: {organisationId: $o, branch: $b,'
                    ' certifications: [$c], scope: EVALUATION, validFrom: "2024-01-01"}, idempotencyKey: $k)'
                    ' { __typename ... on Error { code } } }', {"o": centre, "b": branch, "c": code, "k": f"a-{code}"})
        token = await w.token(organisation=centre, role="evaluator")
        marker = f"Secret{branch.title()}Holder"
        candidate = await ok(w, 'mutation($f: String!) { registerCandidate(input: {givenName: "X", familyName: $f,'
                                ' email: "x@example.org", status: EMPLOYEE}, idempotencyKey: $f)'
                                ' { __typename ... on CandidateRegistered { candidate { id } } } }', {"f": marker}, token)
        candidate = candidate["candidate"]["id"]

        async def opened():
            data = await w.graphql(
                'mutation($i: ID!, $c: String!, $o: ID!) { openCandidacy(input: {candidateId: $i, certification: $c,'
                ' route: TRAINING, evaluatorId: $o}, idempotencyKey: $c) { __typename'
                ' ... on CandidacyChanged { candidacy { id } } ... on Error { code } } }',
                {"i": candidate, "c": code, "o": centre}, token=token)
            return data["openCandidacy"].get("candidacy")

        candidacy = (await eventually(opened))["id"]
        admin = await w.token(organisation=branch, role="branch-admin", branches=(branch,))
        w.sides[branch] = {"marker": marker, "ids": [candidate, candidacy], "tokens": [token, admin]}
    yield w
    w.stop()


def fuzz(world, token: str, forbidden_marker: str, ids: list[str]) -> None:
    def string(value):
        return graphql.StringValueNode(value=value)

    scalars = {
        "ID": st.sampled_from(ids).map(string),
        "Date": st.dates().map(lambda d: string(d.isoformat())),
        "DateTime": st.datetimes().map(lambda d: string(d.isoformat() + "Z")),
        "Decimal": st.decimals(min_value=0, max_value=10_000, places=2).map(lambda d: string(str(d))),
        "JSON": st.just(graphql.NullValueNode()),
    }

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(query=queries(SDL_PATH.read_text(), custom_scalars=scalars, allow_x00=False))
    def probe(query: str) -> None:
        answer = httpx.post(world.graphql_url, json={"query": query}, timeout=30,
                            headers={"authorization": f"Bearer {token}"})
        assert answer.status_code < 500, (query, answer.text)
        assert forbidden_marker not in answer.text, query

    probe()


async def test_generated_queries_never_fail_and_never_show_another_organisations_records(world):
    uimm, leem = world.sides["UIMM"], world.sides["LEEM"]
    ids = uimm["ids"] + leem["ids"]
    for side, other in ((uimm, leem), (leem, uimm)):
        for token in side["tokens"]:
            await anyio.to_thread.run_sync(fuzz, world, token, other["marker"], ids)
    # The fuzzing was not blind: each side does see its own record by the same ids.
    data = await world.graphql('query($i: ID!) { candidate(id: $i) { familyName } }', {"i": uimm["ids"][0]},
                               token=uimm["tokens"][0])
    assert data["candidate"]["familyName"] == uimm["marker"]
