"""Events that fit: a command as large as the API takes makes events the topics take (each topic says
how large, explicitly), so the relay publishes them and the read models show them."""

from shared.settings import Settings
from shared.topics import MAX_MESSAGE_BYTES


def test_a_command_body_is_bounded_well_below_the_largest_event_a_topic_takes():
    assert Settings().max_request_bytes * 2 <= MAX_MESSAGE_BYTES


async def test_a_version_of_one_and_a_half_megabytes_goes_through_to_the_read_models(system):
    await system.start()
    await system.graphql('mutation { createBranch(input: {code: "UIMM", name: "UIMM"}, idempotencyKey: "b")'
                         ' { __typename } }')
    competences = "Analyser le dysfonctionnement et proposer une action corrective. " * 760  # ~50,000 characters
    blocks = [{"code": f"RNCP34174BC{n:02d}", "title": f"Bloc {n}", "competences": competences} for n in range(30)]
    created = await system.graphql(
        'mutation($input: CreateCertificationInput!) { createCertification(input: $input, idempotencyKey: "c")'
        ' { __typename ... on Error { code message } ... on CertificationChanged { certification { blocks { code } } } } }',
        {"input": {"code": "RNCP34174", "kind": "CQPM", "title": "CQPM", "owners": ["UIMM"], "blocks": blocks}})
    result = created["createCertification"]
    assert result["__typename"] == "CertificationChanged", result  # read-your-writes: it reached the read models
    assert len(result["certification"]["blocks"]) == 30
