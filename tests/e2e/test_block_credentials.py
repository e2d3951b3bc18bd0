"""A certificate's credentials, end to end: a partial validation → a block attestation whose page lists the acquired
blocks with their validity, and one credential per acquired block (none of the certification), each verifying with
the branch's published key and carrying the block's validity, each downloadable alone through the gateway, the same
bytes as the PDF's attachment; a full award → the certification's credential and its blocks'; the holder's
credentials listed on the candidacy and on the candidate."""

import datetime as dt

import httpx

from shared.certificates import credentials as vc
from shared.certificates import pdf, seal
from services.jury.domain import add_months
from tests.documents import download
from tests.e2e.test_jury_journey import (  # noqa: F401 (the fixture)
    BLOCKS, decide, evaluate, journey, paritaire_session, present, vae_candidacy,
)
from tests.harness import eventually
from tests.pdf_text import page_lines

SELECTION = ("query($id: ID!) { candidacy(id: $id) { documents { id kind block certificate downloadUrl }"
             " credentials { id credentialId number block achievement validFrom validUntil sha256 downloadUrl }"
             " candidate { documents { kind certificate } credentials { number block } } } }")


async def issued(journey, candidacy: str, count: int) -> dict:
    """The candidacy as the gateway shows it once its PDF and `count` credentials are listed."""
    async def listed():
        data = (await journey.graphql(SELECTION, {"id": candidacy}))["candidacy"]
        pdfs = [d for d in data["documents"] if d["kind"] == "CERTIFICATE_PDF"]
        return data if pdfs and len(data["credentials"]) == count else None

    return await eventually(listed, timeout=90)


async def checked(journey, candidacy: dict, number: str, issuer: dict) -> tuple[bytes, dict[str, dict]]:
    """The sealed PDF, and each credential by block ("" the award's): downloaded alone, equal to the PDF's
    attachment, verifying with the branch's published key."""
    [document] = [d for d in candidacy["documents"] if d["kind"] == "CERTIFICATE_PDF"]
    assert document["certificate"] == number
    body = (await download(journey, document["downloadUrl"])).content
    assert (await seal.check_async(body, issuer["ca"].encode())).state == "valid"
    attached = pdf.embedded_files(body)
    found = {}
    for credential in candidacy["credentials"]:
        assert credential["number"] == number
        name = f"credential-{credential['block']}.jwt" if credential["block"] else "credential.jwt"
        answer = await download(journey, credential["downloadUrl"])
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/vc+jwt")
        assert answer.content == attached[name]
        verified = vc.verify(answer.text, issuer["branches"]["UIMM"]["jwks"], {}, dt.date.today())
        # The signature verifies with the published key; the status lists may not be served (status-unknown).
        assert verified.verdict in ("valid", "status-unknown") and verified.credential is not None, verified
        assert verified.credential["id"] == credential["credentialId"]
        assert verified.credential["credentialSubject"]["licenseNumber"] == number
        found[credential["block"] or ""] = {**credential, "vc": verified.credential}
    assert set(attached) == {f"credential-{b}.jwt" if b else "credential.jwt" for b in found}
    return body, found


async def test_a_partial_validation_gets_a_block_attestation_and_a_credential_per_acquired_block(journey):
    today = dt.date.today()
    _, candidacy = await vae_candidacy(journey, "Sacha", "bcred")
    for n, (block, acquired) in enumerate(zip(BLOCKS, (True, True, False))):
        assert (await evaluate(journey, candidacy, block, acquired, f"bcred-e{n}"))["validated"] is acquired
    session_id, members = await paritaire_session(journey, today.isoformat(), "s-bcred")
    await present(journey, session_id, candidacy, "bcred-present")
    number = (await decide(journey, session_id, candidacy, "PARTIAL_VALIDATION", members, "bcred-d"))[
        "certificateNumber"]

    shown = await issued(journey, candidacy, 2)
    async with httpx.AsyncClient(timeout=30) as http:
        issuer = (await http.post(f"{journey['jury'].url}/queries/issuer", json={})).json()
    body, credentials = await checked(journey, shown, number, issuer)

    until = add_months(today, 60)  # the certification's blocks are valid 60 months
    text = " ".join(page_lines(body))
    assert "Attestation de blocs de compétences" in text and number in text
    for block in BLOCKS[:2]:
        assert (f"{block} · Bloc {BLOCKS.index(block) + 1} · validé le {today:%d/%m/%Y}, valable jusqu'au "
                f"{until:%d/%m/%Y}") in text
    assert BLOCKS[2] not in text

    assert sorted(credentials) == BLOCKS[:2]  # no credential of the certification for an attestation
    for block, credential in credentials.items():
        assert (credential["validFrom"], credential["validUntil"]) == (today.isoformat(), until.isoformat())
        said = credential["vc"]
        assert (said["validFrom"], said["validUntil"]) == (f"{today}T00:00:00Z", f"{until}T23:59:59Z")
        achievement = said["credentialSubject"]["achievement"]
        assert achievement["achievementType"] == "Competency"
        assert [a["targetCode"] for a in achievement["alignment"]] == ["RNCP34174", block]
        assert said["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert len({c["vc"]["credentialStatus"]["id"] for c in credentials.values()}) == 2  # each its own entry

    holder = shown["candidate"]
    assert sorted(c["block"] for c in holder["credentials"]) == BLOCKS[:2]
    assert sorted(d["kind"] for d in holder["documents"]) == ["CERTIFICATE_PDF", "CREDENTIAL", "CREDENTIAL"]


async def test_a_full_award_gets_the_certifications_credential_beside_its_blocks(journey):
    today = dt.date.today()
    _, candidacy = await vae_candidacy(journey, "Noa", "fcred")
    for n, block in enumerate(BLOCKS):
        assert (await evaluate(journey, candidacy, block, True, f"fcred-e{n}"))["validated"]
    session_id, members = await paritaire_session(journey, today.isoformat(), "s-fcred")
    await present(journey, session_id, candidacy, "fcred-present")
    number = (await decide(journey, session_id, candidacy, "FULL_AWARD", members, "fcred-d"))["certificateNumber"]

    shown = await issued(journey, candidacy, 4)
    async with httpx.AsyncClient(timeout=30) as http:
        issuer = (await http.post(f"{journey['jury'].url}/queries/issuer", json={})).json()
    _, credentials = await checked(journey, shown, number, issuer)
    assert sorted(credentials) == ["", *BLOCKS]
    award = credentials[""]
    assert award["block"] is None and award["validUntil"] is None and "validUntil" not in award["vc"]
    assert award["vc"]["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    assert [a["targetCode"] for a in award["vc"]["credentialSubject"]["achievement"]["alignment"]] == ["RNCP34174"]
    assert all(credentials[b]["validUntil"] == add_months(today, 60).isoformat() for b in BLOCKS)
