"""Certificates people hold (issue 22), the pure building blocks: a development CA (pki), the PDF of a
certificate or a block attestation from plain data and a per-branch template (pdf), its PAdES seal and
check (seal), and the Open Badges 3.0 credential signed as a JWT-VC with its Bitstring Status List
(credentials). No database, no network, no service: the jury and the gateway wire them in."""
