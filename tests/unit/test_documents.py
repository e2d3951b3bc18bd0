"""The rules of documents (shared/documents.py): what the bytes are decides, never their name; the sealed
bytes open only with their person's key, under their own object key; the malware scan speaks clamd."""

import asyncio
import hashlib
import struct
from datetime import date

import pytest

from shared.documents import (
    JPEG, KINDS, PDF, PNG, DigestMismatch, DocumentInfected, DocumentTooLarge, DocumentTypeRefused, Scanner,
    ScannerUnavailable, check, purge_day, seal_bytes, sniff, unseal_bytes,
)
from shared.errors import InvalidInput
from shared.personal import new_key
from shared.vocabulary import DocumentKind

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\0" * 32
EXE_BYTES = b"MZ\x90\x00" + b"\0" * 60 + b"This program cannot be run in DOS mode. %PDF-1.4"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("data, found", [(PDF_BYTES, PDF), (PNG_BYTES, PNG), (JPEG_BYTES, JPEG),
                                         (b"junk\n" + PDF_BYTES, PDF), (EXE_BYTES, None), (b"\x7fELF" + PDF_BYTES, None),
                                         (b"#!/bin/sh\n%PDF-", None), (b"PK\x03\x04docx", None), (b"", None)])
def test_the_media_type_is_found_from_the_bytes_only(data, found):
    assert sniff(data) == found


def test_an_executable_named_pdf_is_refused_whatever_it_claims():
    with pytest.raises(DocumentTypeRefused) as refusal:
        check(DocumentKind.LIVRET_2, EXE_BYTES, sha(EXE_BYTES))
    assert refusal.value.details["found"] is None and refusal.value.details["accepted"] == [PDF]


def test_each_kind_takes_only_its_own_types():
    check(DocumentKind.LIVRET_1_SUPPORT, PNG_BYTES, sha(PNG_BYTES))  # a photo supports a request
    with pytest.raises(DocumentTypeRefused):
        check(DocumentKind.LIVRET_1, PNG_BYTES, sha(PNG_BYTES))  # the request itself is a PDF


def test_a_document_over_its_kinds_bound_is_refused_before_anything_else():
    bound = KINDS[DocumentKind.IDENTITY_DOCUMENT].max_bytes
    data = PDF_BYTES + b"\0" * bound
    with pytest.raises(DocumentTooLarge) as refusal:
        check(DocumentKind.IDENTITY_DOCUMENT, data, "0" * 64)
    assert refusal.value.details["max_bytes"] == bound and refusal.value.status == 413


def test_bytes_not_matching_the_digest_sent_are_refused():
    with pytest.raises(DigestMismatch):
        check(DocumentKind.LIVRET_2, PDF_BYTES, sha(PDF_BYTES + b" "))
    assert check(DocumentKind.LIVRET_2, PDF_BYTES, sha(PDF_BYTES).upper()).sha256 == sha(PDF_BYTES)


def test_an_empty_document_is_refused():
    with pytest.raises(InvalidInput):
        check(DocumentKind.LIVRET_2, b"", sha(b""))


def test_sealed_bytes_open_only_with_their_persons_key_under_their_own_object_key():
    key = new_key()
    sealed = seal_bytes(key, "p1", "candidacies/c1/d1", PDF_BYTES)
    assert PDF_BYTES not in sealed and b"%PDF" not in sealed
    assert unseal_bytes(key, "p1", "candidacies/c1/d1", sealed) == PDF_BYTES
    for person, object_key, other_key in [("p2", "candidacies/c1/d1", key), ("p1", "candidacies/c1/d2", key),
                                          ("p1", "candidacies/c1/d1", new_key())]:
        with pytest.raises(ValueError):
            unseal_bytes(other_key, person, object_key, sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ValueError):
        unseal_bytes(key, "p1", "candidacies/c1/d1", tampered)


def test_a_document_may_be_purged_once_its_keeping_period_has_run():
    years = KINDS[DocumentKind.LIVRET_2].keep_years
    assert purge_day(DocumentKind.LIVRET_2, date(2024, 3, 1)) == date(2024 + years, 3, 1)
    assert purge_day(DocumentKind.LIVRET_2, date(2024, 2, 29)) == date(2024 + years, 2, 28)


async def clamd(verdict: bytes):
    """A server speaking clamd's INSTREAM (a unit-test stand-in for ClamAV): answers `verdict`, keeps what came."""
    received = bytearray()

    async def serve(reader, writer):
        assert await reader.readexactly(10) == b"zINSTREAM\0"
        while size := struct.unpack(">I", await reader.readexactly(4))[0]:
            received.extend(await reader.readexactly(size))
        writer.write(verdict + b"\0")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, received


async def test_the_scanner_streams_the_bytes_to_clamd_and_refuses_what_it_finds():
    server, received = await clamd(b"stream: Eicar-Test-Signature FOUND")
    address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    data = PDF_BYTES * 5000  # more than one chunk
    with pytest.raises(DocumentInfected) as refusal:
        await Scanner(address).scan(data)
    assert refusal.value.details["found"] == "Eicar-Test-Signature" and bytes(received) == data
    server.close()


async def test_the_scanner_accepts_what_clamd_finds_clean():
    server, _ = await clamd(b"stream: OK")
    await Scanner(f"127.0.0.1:{server.sockets[0].getsockname()[1]}").scan(PDF_BYTES)
    server.close()


async def test_nothing_is_accepted_unscanned_when_the_configured_scanner_is_away():
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(ScannerUnavailable):
        await Scanner(f"127.0.0.1:{port}").scan(PDF_BYTES)
    await Scanner("").scan(EXE_BYTES)  # none configured: the type checks alone stand
