"""A certificate's PDF, end to end: a full award → the candidacy lists a CERTIFICATE_PDF → the operator downloads
it → its seal is valid and the branch's (checked against the installation CA the jury publishes) → its embedded
credential verifies against the branch's published key → a jury member of another branch gets no such document."""

import datetime as dt

import httpx

from shared.certificates import credentials as vc
from shared.certificates import pdf, seal
from tests.documents import download
from tests.e2e.test_jury_journey import (  # noqa: F401 (the fixture)
    BLOCKS, decide, evaluate, journey, ok, paritaire_session, present, vae_candidacy,
)
from tests.harness import eventually


async def test_an_award_gets_its_sealed_pdf_with_its_credential_readable_by_the_candidacy_in_scope_only(journey):
    _, candidacy = await vae_candidacy(journey, "Élodie", "pdf")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(journey, candidacy, block, True, f"pdf-e{n}"))["validated"]
    session_id, members = await paritaire_session(journey, dt.date.today().isoformat(), "s-pdf")
    await present(journey, session_id, candidacy, "pdf-present")
    number = (await decide(journey, session_id, candidacy, "FULL_AWARD", members, "pdf-d"))["certificateNumber"]

    async def listed():
        data = await journey.graphql("query($id: ID!) { candidacy(id: $id) { documents { id kind sha256"
                                     " downloadUrl } } }", {"id": candidacy})
        found = [d for d in data["candidacy"]["documents"] if d["kind"] == "CERTIFICATE_PDF"]
        return found or None

    [document] = await eventually(listed, timeout=60)
    answer = await download(journey, document["downloadUrl"])
    assert answer.status_code == 200, answer.text
    body = answer.content
    assert body.startswith(b"%PDF")

    async with httpx.AsyncClient(timeout=30) as http:
        issuer = (await http.post(f"{journey['jury'].url}/queries/issuer", json={})).json()
    status = await seal.check_async(body, issuer["ca"].encode())
    assert status.state == "valid", status
    assert status.signer.startswith("Common Name: UIMM seal") and status.organisation == "Métallurgie"

    token = pdf.embedded_files(body)["credential.jwt"].decode()
    verified = vc.verify(token, issuer["branches"]["UIMM"]["jwks"], {}, dt.date.today())
    # The signature verifies with the published key; the status lists are not served yet (status-unknown).
    assert verified.verdict == "status-unknown" and verified.credential is not None
    assert verified.credential["credentialSubject"]["licenseNumber"] == number
    assert verified.credential["credentialSubject"]["identifier"][0]["identityHash"] == "Élodie Martin"
    assert vc.verify(token.replace(token[-5:], "AAAAA"), issuer["branches"]["UIMM"]["jwks"], {},
                     dt.date.today()).verdict in ("tampered", "malformed")

    await ok(journey, "createBranch", "CreateBranchInput", {"code": "AGRI", "name": "Agriculture", "idcc": ["7024"]},
             "b-agri")
    outsider = await journey.token(organisation=journey.centre, role="jury-member", branches=("AGRI",))

    async def refused():  # once the gateway knows the branch (it learns it through Kafka)
        answer = await download(journey, document["downloadUrl"], token=outsider)
        return None if answer.status_code == 401 else answer

    answer = await eventually(refused)
    assert answer.status_code == 404, answer.text
