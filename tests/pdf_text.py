"""The text drawn on a certificate's page, read back as a reader would: fpdf2 draws each string in glyph codes of a
subset font (two bytes each, in literal strings) and maps them back to Unicode in the font's ToUnicode CMap. Enough
for the project's own PDFs (Tf then Tj per line), not a general extractor."""

from __future__ import annotations

import re
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader

_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
_TOKENS = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\":
            nxt = raw[i + 1:i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def _cmap(data: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for n, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(int(start, 16) + n)
    return mapping


def page_lines(pdf_bytes: bytes) -> list[str]:
    """The strings drawn on the first page, in order."""
    reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    fonts = {str(name).lstrip("/"): _cmap(font.get_object()["/ToUnicode"].get_object().data)
             for name, font in page["/Resources"]["/Font"].items()}
    contents = page["/Contents"]
    contents = contents if isinstance(contents, list) else [contents]
    lines, font = [], {}
    for stream in contents:
        for name, text in _TOKENS.findall(stream.get_object().data):
            if name:
                font = fonts[name.decode()]
                continue
            codes = _unescape(text)
            lines.append("".join(font.get(int.from_bytes(codes[i:i + 2], "big"), "?")
                                 for i in range(0, len(codes) - 1, 2)))
    return lines
