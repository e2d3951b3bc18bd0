"""The audit's one-line summaries: what happened, read from the payload, never a person's data."""

import pytest

from services.gateway.audit import summary, without_sealed

SEALED = "pd1.c2VhbGVkIGRhdGEgb2YgYSBwZXJzb24"


@pytest.mark.parametrize("type_, payload, line", [
    ("CertificationCreated", {"code": "RNCP34174", "kind": "CQPM", "title": "T", "owners": ["UIMM"]},
     "CQPM RNCP34174 created, owned by UIMM"),
    ("OrganisationRegistered", {"organisation_id": "o", "name": "AFPI Démo", "siret": None,
                                "kinds": ["EVALUATION_CENTRE"]},
     "Organisation AFPI Démo registered (evaluation centre)"),
    ("CandidacyOpened", {"candidacy_id": "c", "candidate_id": "p", "certification": "RNCP34174", "version": 1,
                         "route": "VAE", "blocks": ["B1", "B2"], "evaluator_id": "o", "trainer_id": None,
                         "employer_id": None, "experience_months": 84},
     "Candidacy opened for RNCP34174 version 1 by VAE, 2 blocks"),
    ("CandidacyPositioned", {"candidacy_id": "c", "blocks": {"B1": "HELD", "B2": "TO_ACQUIRE"}},
     "Positioned: B1 held, B2 to acquire"),
    ("BlockValidated", {"block": "B1", "validated_on": "2026-11-25", "valid_until": "2031-11-25",
                        "modality": "PRACTICAL_SITUATION", "evaluator": "J. Dupont", "evidence": "preuves/x"},
     "Block B1 validated on 2026-11-25 (practical situation), valid until 2031-11-25"),
    ("JurySessionScheduled", {"session_id": "s", "branch": "UIMM", "certifications": ["RNCP34174"],
                              "on": "2026-11-25", "place": "Paris", "remote": False, "capacity": 10},
     "Jury session of UIMM scheduled on 2026-11-25 for RNCP34174, capacity 10"),
    ("CandidacyPresented", {"session_id": "s", "candidacy_id": "c", "blocks": ["B1", "B2"]},
     "Presented to jury session s: B1, B2"),
    ("JuryDecided", {"decision": "FULL_AWARD", "decided_on": "2026-11-25", "blocks_acquired": ["B1", "B2"],
                     "members_present": ["m1", "m2", "m3", "m4"]},
     "Jury decided full award on 2026-11-25, blocks acquired: B1, B2 (4 members present)"),
    ("CertificateIssued", {"number": "RNCP34174-X", "kind": "CERTIFICATE", "certification": "RNCP34174"},
     "Certificate RNCP34174-X issued for RNCP34174"),
    ("FundingDecided", {"granted": False, "granted_amount": None, "reason": "budget"}, "Funding refused"),
    ("DocumentAttached", {"candidacy_id": "c", "document_id": "d2", "kind": "LIVRET_1", "version": 2,
                          "supersedes": "d1", "size": 1200, "media_type": "application/pdf", "sha256": "ab" * 32},
     "Livret 1 attached, version 2 (application/pdf, 1200 bytes), superseding d1"),
    ("DocumentAttached", {"document_id": "d", "kind": "EVALUATION_EVIDENCE", "candidacy_id": "c", "block": "B2",
                          "session_id": None, "version": 1, "supersedes": None, "size": 9, "media_type": "image/png",
                          "sha256": "ab" * 32},
     "Evaluation evidence for block B2 attached, version 1 (image/png, 9 bytes)"),
    ("DocumentRead", {"candidacy_id": "c", "document_id": "d"}, "Document d read"),
])
def test_a_summary_says_in_one_line_what_the_event_recorded(type_, payload, line):
    assert summary(type_, payload) == line


@pytest.mark.parametrize("type_, payload", [
    ("CandidateRegistered", {"candidate_id": "p", "personal": SEALED, "status": "EMPLOYEE", "employer_id": None,
                             "account": "camille"}),
    ("CandidateCorrected", {"candidate_id": "p", "personal": SEALED, "fields": ["family_name"]}),
    ("JuryMemberAppointed", {"session_id": "s", "member_id": "m", "personal": SEALED, "college": "EMPLOYER",
                             "role": "PRESIDENT"}),
    ("BlockNotValidated", {"block": "B1", "evaluated_on": "2026-11-25", "modality": "TEST",
                           "evaluator": "J. Dupont", "evidence": "Camille Martin, copie"}),
    ("DecisionCorrected", {"previous": "FULL_AWARD", "decision": "REFUSAL", "reason": "fraude de Camille Martin"}),
    ("AdmissibilityDecided", {"admissible": True, "reason": "Livret 1 de Camille recevable"}),
])
def test_a_summary_shows_no_sealed_data_no_account_and_no_free_text(type_, payload):
    line = summary(type_, payload)
    assert SEALED not in line and "camille" not in line.lower() and "Dupont" not in line and "preuves" not in line


def test_an_event_this_code_does_not_know_or_a_payload_of_another_shape_reads_as_its_type():
    assert summary("SomethingNew", {"x": 1}) == "SomethingNew"
    assert summary("JuryDecided", {"decision": "FULL_AWARD"}) == "JuryDecided"


def test_the_entrys_payload_shows_where_sealed_data_is_without_it():
    assert without_sealed({"personal": SEALED, "status": "EMPLOYEE"}) == {"personal": "[sealed]", "status": "EMPLOYEE"}
