"""The public verification (services/gateway/verification.py, issuer_routes.py): a credential is checked only
against this installation's keys and lists, and the page shows what it says escaped."""

from __future__ import annotations

import datetime as dt

import httpx

from shared.certificates import credentials as vc
from shared.vocabulary import CertificateKind

from services.gateway import issuer_routes, verification
from services.gateway.schema.jury.types import CertificateVerdict, CertificateVerification

PUBLIC = "https://cqp.example.fr"
DID = vc.did_web("cqp.example.fr", "branches", "uimm")


def token_of(issuer: str, list_url: str) -> str:
    key = vc.generate_key(issuer, "k1")
    document = {"@context": [vc.VC_CONTEXT], "id": "urn:uuid:1", "type": ["VerifiableCredential"],
                "issuer": {"id": issuer}, "validFrom": "2026-06-01T00:00:00Z", "credentialSubject": {},
                "credentialStatus": vc.StatusEntry(list_url, 3).as_json()}
    return vc.sign(document, key)


class Jury:
    """The jury service's public queries, as an httpx transport: records what was asked."""

    def __init__(self):
        self.asked = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append((request.url.path, request.content.decode()))
        if request.url.path == "/queries/jwks":
            return httpx.Response(200, json={"keys": []})
        return httpx.Response(404, json={"error": {"type": "NotFound"}})


async def test_a_credential_of_this_installation_asks_its_branchs_keys_and_list():
    jury = Jury()
    async with httpx.AsyncClient(transport=httpx.MockTransport(jury)) as http:
        keys, lists = await verification.issuer_material(http, "http://jury", PUBLIC,
                                                         token_of(DID, f"{PUBLIC}/branches/uimm/status/2"))
    assert (keys, lists) == ([], {})
    assert jury.asked == [("/queries/jwks", '{"branch":"uimm"}'), ("/queries/status", '{"branch":"uimm","list":2}')]


async def test_a_credential_of_another_issuer_or_list_asks_nothing():
    jury = Jury()
    async with httpx.AsyncClient(transport=httpx.MockTransport(jury)) as http:
        foreign = vc.did_web("evil.example", "branches", "uimm")
        assert await verification.issuer_material(http, "http://jury", PUBLIC,
                                                  token_of(foreign, f"{PUBLIC}/branches/uimm/status/1")) == ([], {})
        await verification.issuer_material(http, "http://jury", PUBLIC, token_of(DID, "https://evil.example/status/1"))
        assert await verification.issuer_material(http, "http://jury", PUBLIC, "not a token") == ([], {})
    assert jury.asked == [("/queries/jwks", '{"branch":"uimm"}')]


def found(**changes) -> CertificateVerification:
    values = dict(number="RNCP34174-1", kind=CertificateKind.CERTIFICATE, holder="<b>Élodie</b>",
                  certification_code="RNCP34174", certification_title="CQPM", version=1, blocks=["BC01"],
                  awarded_on=dt.date(2026, 7, 1), valid=False, revoked_on=dt.date(2026, 7, 2),
                  revocation_reason="decision corrected", verdict=CertificateVerdict.REVOKED)
    values.update(changes)
    return CertificateVerification(**values)


def test_the_page_escapes_what_it_shows_and_the_json_names_fields_as_graphql_does():
    page = issuer_routes.page("RNCP34174-1", found())
    assert "&lt;b&gt;Élodie&lt;/b&gt;" in page and "<b>Élodie" not in page and "Certificat révoqué" in page
    assert "Aucun certificat n° &lt;x&gt;" in issuer_routes.page("<x>", None)
    answer = issuer_routes.as_json(found())
    assert (answer["verdict"], answer["revokedOn"], answer["revocationReason"], answer["kind"]) == \
        ("REVOKED", "2026-07-02", "decision corrected", "CERTIFICATE")
