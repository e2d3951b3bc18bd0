"""A small development CA: one root and one seal certificate per branch, as PEM bytes in memory.

The seal is what signs a branch's PDF certificates and attestations (PAdES, shared/certificates/seal.py):
"CN=<BRANCH> seal, O=<branch name>", keyUsage digitalSignature + nonRepudiation (contentCommitment), not
a CA. In production the branch's seal comes from a qualified provider; in development and tests the
project makes its own with this module. Nothing here writes a file: callers keep the PEM bytes like the
other secrets (deploy/secrets.sh, the data folder), never in the repository.

Keys are ECDSA P-256 by default (the fastest CMS signature, accepted by every PDF reader) or RSA 3072.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

KeyType = Literal["ec", "rsa"]


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM (the key unencrypted PKCS#8: keep it as a secret)."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


def _key(key_type: KeyType):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"unknown key type {key_type!r} (ec or rsa)")


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def make_root(name: str = "CQP development root CA", *, organisation: str = "CQP platform (development)",
              key_type: KeyType = "ec", days: int = 3650, now: dt.datetime | None = None) -> Issued:
    """A self-signed root CA (basicConstraints CA, pathlen 0: it signs seals only)."""
    now = now or _now()
    key = _key(key_type)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _pem(key))


def make_seal(root: Issued, branch: str, branch_name: str, *, key_type: KeyType = "ec", days: int = 825,
              now: dt.datetime | None = None) -> Issued:
    """The seal certificate of one branch, issued by `root`: "CN=<branch> seal, O=<branch_name>"."""
    now = now or _now()
    ca_cert = root.certificate
    ca_key = serialization.load_pem_private_key(root.key_pem, password=None)
    key = _key(key_type)
    public = key.public_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{branch} seal"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, branch_name),
                         x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _pem(key))


@dataclass(frozen=True)
class DevelopmentCA:
    """A root and the seals it issued, by branch code."""

    root: Issued
    seals: dict[str, Issued]


def development_ca(branches: dict[str, str], *, key_type: KeyType = "ec") -> DevelopmentCA:
    """A root and one seal per branch ({code: name}), e.g. {"UIMM": "Union des industries et métiers de la
    métallurgie"}."""
    root = make_root(key_type=key_type)
    return DevelopmentCA(root, {code: make_seal(root, code, name, key_type=key_type)
                                for code, name in branches.items()})
