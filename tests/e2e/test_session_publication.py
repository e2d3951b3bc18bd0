"""A session's results, end to end on real Kafka, PostgreSQL, Keycloak and S3: an award is seen by the jury side
only (the candidacy's evaluation centre sees no decision, certificate nor PDF, its download is refused,
verification says NOT_YET_PUBLISHED, and the candidacy is not closed) → the session is closed (its minutes generated, sealed by the branch, read by
the jury secretary) → published (the centre sees and downloads the PDF; the candidacy closes) → unpublishing is then refused. And an
unpublication before any outside download hides the results again."""

import datetime as dt

import httpx

from shared.certificates import seal
from tests.documents import download
from tests.e2e.test_jury_journey import (  # noqa: F401 (the fixture)
    BLOCKS, decide, evaluate, journey, mutate, ok, paritaire_session, present, vae_candidacy,
)
from tests.harness import eventually

RESULTS = ("query($id: ID!) { candidacy(id: $id) { status decisions { decision } certificates { number }"
           " documents { id kind downloadUrl } } }")


async def awarded(journey, name, key):
    _, candidacy = await vae_candidacy(journey, name, key)
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(journey, candidacy, block, True, f"{key}-e{n}"))["validated"]
    session_id, members = await paritaire_session(journey, dt.date.today().isoformat(), f"{key}-s")
    await present(journey, session_id, candidacy, f"{key}-present")
    number = (await decide(journey, session_id, candidacy, "FULL_AWARD", members, f"{key}-d"))["certificateNumber"]

    async def pdf():  # made by the jury service on its own CertificateIssued
        found = (await journey.graphql(RESULTS, {"id": candidacy}))["candidacy"]["documents"]
        return next((d for d in found if d["kind"] == "CERTIFICATE_PDF"), None)

    return candidacy, session_id, members, number, await eventually(pdf, timeout=60)


async def test_results_reach_the_candidacys_organisations_only_once_published_after_the_minutes(journey):
    candidacy, session_id, members, number, document = await awarded(journey, "Maëlle", "pub")
    centre = await journey.token(organisation=journey.centre, role="evaluator")
    seen = (await journey.graphql(RESULTS, {"id": candidacy}, token=centre))["candidacy"]
    assert (seen["decisions"], seen["certificates"]) == ([], [])
    assert "CERTIFICATE_PDF" not in [d["kind"] for d in seen["documents"]]
    # The PDF exists, so the candidacy service heard of the award long ago: its status tells nothing yet.
    assert seen["status"] == "VALIDATION_FILE_SUBMITTED"
    refused = await download(journey, document["downloadUrl"], token=centre)
    assert (refused.status_code, refused.json()["error"]["type"]) == (404, "UnknownDocument")
    verified = (await journey.graphql("query($n: String!) { verifyCertificate(number: $n) { valid verdict holder } }",
                                      {"n": number}, token=None))["verifyCertificate"]
    assert verified == {"valid": False, "verdict": "NOT_YET_PUBLISHED", "holder": "[withheld]"}

    early = await mutate(journey, "publishSessionResults", "PublishSessionResultsInput", {"sessionId": session_id},
                         "pub-early")
    assert early["code"] == "MinutesMissing"
    not_president = await mutate(journey, "closeJurySession", "CloseSessionInput",
                                 {"sessionId": session_id, "president": members[1]}, "pub-close-0")
    assert not_president["code"] == "NotThePresident"
    await ok(journey, "closeJurySession", "CloseSessionInput", {"sessionId": session_id, "president": members[0]},
             "pub-close")
    secretary = await journey.token(organisation=journey.centre, role="jury-secretary", branches=("UIMM",))

    async def minutes():
        found = await journey.graphql("query($id: ID!) { jurySession(id: $id) { closedOn published minutes {"
                                      " kind downloadUrl } } }", {"id": session_id}, token=secretary)
        return found["jurySession"] if found["jurySession"]["minutes"] else None

    session = await eventually(minutes)
    assert (session["closedOn"], session["published"]) == (dt.date.today().isoformat(), False)
    answer = await download(journey, session["minutes"]["downloadUrl"], token=secretary)
    assert answer.status_code == 200, answer.text
    async with httpx.AsyncClient(timeout=30) as http:
        issuer = (await http.post(f"{journey['jury'].url}/queries/issuer", json={})).json()
    status = await seal.check_async(answer.content, issuer["ca"].encode())
    assert status.state == "valid" and status.organisation == "Métallurgie", status
    closed_again = await mutate(journey, "decide", "DecideInput", {
        "sessionId": session_id, "candidacyId": candidacy, "decision": "REFUSAL", "presentMembers": members,
        "votesFor": len(members)}, "pub-d-late")
    assert closed_again["code"] == "SessionClosed"

    await ok(journey, "publishSessionResults", "PublishSessionResultsInput", {"sessionId": session_id}, "pub-go")
    seen = (await journey.graphql(RESULTS, {"id": candidacy}, token=centre))["candidacy"]
    assert (seen["decisions"], seen["certificates"]) == ([{"decision": "FULL_AWARD"}], [{"number": number}])

    async def closed():  # the candidacy service closes the awarded candidacy once it hears of the publication
        return (await journey.graphql(RESULTS, {"id": candidacy}, token=centre))["candidacy"]["status"] == "CLOSED"

    await eventually(closed)
    read = await download(journey, document["downloadUrl"], token=centre)
    assert read.status_code == 200 and read.content.startswith(b"%PDF")
    again = await mutate(journey, "unpublishSessionResults", "UnpublishSessionResultsInput",
                         {"sessionId": session_id, "reason": "erreur"}, "pub-un")
    assert again["code"] == "ResultsAlreadyDownloaded"


async def test_an_unpublication_before_any_outside_download_hides_the_results_again(journey):
    candidacy, session_id, members, number, _ = await awarded(journey, "Ilan", "unpub")
    await ok(journey, "closeJurySession", "CloseSessionInput", {"sessionId": session_id, "president": members[0]},
             "unpub-close")
    await ok(journey, "publishSessionResults", "PublishSessionResultsInput", {"sessionId": session_id}, "unpub-go")
    centre = await journey.token(organisation=journey.centre, role="evaluator")
    seen = (await journey.graphql(RESULTS, {"id": candidacy}, token=centre))["candidacy"]
    assert seen["certificates"] == [{"number": number}]
    empty = await mutate(journey, "unpublishSessionResults", "UnpublishSessionResultsInput",
                         {"sessionId": session_id, "reason": " "}, "unpub-0")
    assert empty["code"] == "UnpublicationNeedsReason"
    await ok(journey, "unpublishSessionResults", "UnpublishSessionResultsInput",
             {"sessionId": session_id, "reason": "décision saisie sur le mauvais dossier"}, "unpub-1")
    seen = (await journey.graphql(RESULTS, {"id": candidacy}, token=centre))["candidacy"]
    assert (seen["decisions"], seen["certificates"]) == ([], [])
