"""Streaming readers of the France Compétences exports: the XML V4.1 flow and the 10-file CSV export.

Each reader yields one `Fiche` at a time, or a `Rejected` for a fiche that cannot be read, and goes on:
the real files are hundreds of MB, so neither format is ever held in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sqlite3
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import date
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import IO, Any

from pydantic import ValidationError

from shared.commands.catalog import Fiche

from .fiche import Rejected

Result = Fiche | Rejected
Opener = Callable[[], IO[bytes]]

ROUTES = ("FI", "CA", "FC", "CQ", "CL", "VAE")  # also the order in which a fiche lists its routes
_LEVEL = re.compile(r"NIV[1-8]")
_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = re.compile(r"['’‘ʼ`´]")


class ExportIncomplete(Exception):
    """The CSV export lacks files that fiches are built from (e.g. only some files were downloaded)."""

    def __init__(self, where: Path, missing: list[str]):
        self.missing = missing
        super().__init__(
            f"{where}: incomplete France Compétences CSV export, missing "
            + ", ".join(f"the {name} file (*_{name}_*.csv)" for name in missing)
        )


class _Invalid(ValueError):
    """A value that cannot be mapped; its message becomes the reason of a Rejected."""


def read_export(path: str | PathLike[str]) -> Iterator[Result]:
    """Reads either format, recognised by content: an XML flow (bare or zipped), or CSV files (zip or folder)."""
    path = Path(path)
    if path.is_dir():
        return read_csv_export(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [name.lower() for name in archive.namelist()]
        if any(name.endswith(".xml") for name in names):
            return read_xml(path)
        if any(name.endswith(".csv") for name in names):
            return read_csv_export(path)
        raise ValueError(f"{path}: a zip holding neither an .xml nor .csv files")
    with open(path, "rb") as file:
        head = file.read(256).removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        return read_xml(path)
    raise ValueError(f"{path}: not a France Compétences export (an XML flow, a zip, or a folder of CSV files)")


# ---------------------------------------------------------------------------------------------- XML


def read_xml(path: str | PathLike[str]) -> Iterator[Result]:
    """Streams the FICHE elements of an XML V4.x flow (.xml, or a .zip holding one .xml).

    Malformed XML (e.g. a truncated download) raises xml.etree.ElementTree.ParseError: the parser cannot
    resume after it, unlike after a fiche whose values are wrong.
    """
    with _open_xml(Path(path)) as stream:
        events = ET.iterparse(stream, events=("start", "end"))
        _, root = next(events)  # FICHES
        depth = 1
        for event, element in events:
            if event == "start":
                depth += 1
                continue
            depth -= 1
            if depth == 1 and element.tag == "FICHE":
                yield _xml_fiche(element)
                # Drop the fiche just read, and the root's reference to it: memory stays at one fiche.
                element.clear()
                root.clear()


@contextmanager
def _open_xml(path: Path) -> Iterator[IO[bytes]]:
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as file:
            yield file
        return
    with zipfile.ZipFile(path) as archive:
        members = [name for name in archive.namelist() if name.lower().endswith(".xml")]
        if len(members) != 1:
            raise ValueError(f"{path}: expected one .xml file in the zip, found {len(members)}")
        with archive.open(members[0]) as file:  # decompressed as it is read
            yield file


def _xml_fiche(fiche: ET.Element) -> Result:
    number = _text(fiche, "NUMERO_FICHE")
    try:
        data = {
            "number": number,
            "title": _text(fiche, "INTITULE"),
            "level": _level(_text(fiche, "NOMENCLATURE_EUROPE/NIVEAU")),
            "active": _yes_no(_text(fiche, "ACTIF"), "ACTIF"),
            "state": _text(fiche, "ETAT_FICHE"),
            "registration_type": _text(fiche, "TYPE_ENREGISTREMENT"),
            "decision_date": _date(_text(fiche, "DATE_DECISION"), "DATE_DECISION"),
            "effect_date": _date(_text(fiche, "DATE_EFFET"), "DATE_EFFET"),
            "end_date": _date(_text(fiche, "DATE_FIN_ENREGISTREMENT"), "DATE_FIN_ENREGISTREMENT"),
            "delivery_deadline": _date(_text(fiche, "DATE_LIMITE_DELIVRANCE"), "DATE_LIMITE_DELIVRANCE"),
            "routes": [route for route in ROUTES if _jury_open(fiche.find(f"SI_JURY_{route}"), route)],
            "certifiers": [
                _given(siret=_siret(_text(certifier, "SIRET_CERTIFICATEUR")),
                       name=_text(certifier, "NOM_CERTIFICATEUR"))
                for certifier in fiche.iterfind("CERTIFICATEURS/CERTIFICATEUR")
            ],
            "blocks": [
                _given(code=_text(block, "CODE"), title=_text(block, "LIBELLE"),
                       competences=_text(block, "LISTE_COMPETENCES"),
                       modalities=_text(block, "MODALITES_EVALUATION"))
                for block in fiche.iterfind("BLOCS_COMPETENCES/BLOC_COMPETENCES")
            ],
            "predecessors": _unique(_text(e) for e in fiche.iterfind(
                "ANCIENNES_CERTIFICATIONS/ANCIENNE_CERTIFICATION/ID_FICHE_ANCIENNE_CERTIFICATION")),
            "successors": _unique(_text(e) for e in fiche.iterfind(
                "NOUVELLES_CERTIFICATIONS/NOUVELLE_CERTIFICATION/ID_FICHE_NOUVELLE_CERTIFICATION")),
            "correspondences": [
                _given(blocks=_unique(_text(e) for e in link.iterfind("SOURCE/BLOC_COMPETENCES/CODE")),
                       target_fiche=_text(link, "DESTINATION/NUMERO_FICHE"),
                       target_blocks=_unique(_text(e) for e in link.iterfind("DESTINATION/BLOC_COMPETENCES/CODE")))
                for link in fiche.iterfind("CORRESPONDANCES/CORRESPONDANCE")
            ],
            "idcc": _unique([
                *(_text(fiche, f"CCN_{n}/NUMERO") for n in (1, 2, 3)),
                *(_text(e) for e in fiche.iterfind("CODES_IDCC/IDCC/CODE")),
            ]),
        }
    except _Invalid as error:
        return Rejected(number=number, reason=str(error))
    return _build(number, data)


def _text(element: ET.Element, path: str | None = None) -> str | None:
    """The stripped text of element (or of its descendant at path); None when absent or blank."""
    target = element if path is None else element.find(path)
    if target is None:
        return None
    text = target.text if len(target) == 0 else "".join(target.itertext())
    if text is None:
        return None
    return text.strip() or None


def _jury_open(jury: ET.Element | None, route: str) -> bool:
    if jury is None:
        return False
    # V4: <SI_JURY_VAE><ACTIF>Oui</ACTIF><COMPOSITION>…; V2/V3 flows: <SI_JURY_VAE>Oui</SI_JURY_VAE>.
    flag = _text(jury, "ACTIF") if len(jury) else _text(jury)
    return _yes_no(flag, f"SI_JURY_{route}") or False


def _yes_no(value: str | None, field: str) -> bool | None:
    if value is None:
        return None
    try:
        return {"oui": True, "non": False}[value.lower()]
    except KeyError:
        raise _Invalid(f"{field}: expected Oui or Non, got {value!r}") from None


# ---------------------------------------------------------------------------------------------- CSV

# The files a fiche is built from, by kind: (name shown in errors, ASCII part of the file name to match on;
# the zip has no UTF-8 flag, so "Compétences"/"VoixdAccès" may come out as cp437 mojibake).
_CSV_FILES = {
    "standard": ("Standard", "_standard_"),
    "blocks": ("Blocs_De_Compétences", "_blocs_de_comp"),
    "certifiers": ("Certificateurs", "_certificateurs_"),
    "routes": ("VoixdAccès", "_voixdacc"),
    "ccn": ("CCN", "_ccn_"),
    "links": ("Ancienne_Nouvelle_Certification", "_ancienne_nouvelle_"),
}
# Columns read from the auxiliary files, Numero_Fiche first; they are indexed under these names.
_AUX_COLUMNS = {
    "blocks": ("Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"),
    "certifiers": ("Numero_Fiche", "Siret_Certificateur", "Nom_Certificateur"),
    "routes": ("Numero_Fiche", "Si_Jury"),
    "ccn": ("Numero_Fiche", "Ccn_1_Numero", "Ccn_2_Numero", "Ccn_3_Numero"),
    "links": ("Numero_Fiche", "Ancienne_Certification", "Nouvelle_Certification"),
}
_STANDARD_COLUMNS = ("Numero_Fiche", "Intitule", "Nomenclature_Europe_Niveau", "Date_Decision",
                     "Date_Fin_Enregistrement", "Date_Effet", "Type_Enregistrement", "Actif")
_ROUTE_LABELS = {
    "Par expérience": "VAE",
    "Par candidature individuelle": "CL",
    "Après un parcours de formation sous statut d’élève ou d’étudiant": "FI",
    "En contrat d’apprentissage": "CA",
    "En contrat de professionnalisation": "CQ",
    "Après un parcours de formation continue": "FC",
}
NO_STANDARD_ROW = "no row in the Standard file (title, level, dates unknown)"


def read_csv_export(path: str | PathLike[str]) -> Iterator[Result]:
    """Streams the fiches of a CSV export (the zip, or a folder of its files), in the Standard file's order.

    Then one Rejected per fiche that other files name but the Standard file lacks. Raises ExportIncomplete,
    as iteration starts, if a file fiches are built from is missing (the Partenaires, Nsf, Rome and Formacode
    files are not read: Fiche has no field for them).
    """
    with _csv_files(Path(path)) as files, closing(sqlite3.connect("")) as db:
        # "" = a private temporary database on disk, deleted by SQLite on close: the auxiliary files are
        # indexed by Numero_Fiche there instead of in memory, and looked up per Standard row.
        _index(db, files)
        db.execute("CREATE TABLE standard (number TEXT PRIMARY KEY)")
        for row in _csv_rows(files["standard"], "Standard", _STANDARD_COLUMNS):
            number = row["Numero_Fiche"]
            if number is not None:
                if db.execute("INSERT OR IGNORE INTO standard VALUES (?)", (number,)).rowcount == 0:
                    yield Rejected(number=number, reason="more than one row in the Standard file")
                    continue
            yield _csv_fiche(row, db)
        seen_elsewhere = " UNION ".join(f"SELECT Numero_Fiche FROM {kind}" for kind in _AUX_COLUMNS)
        for (number,) in db.execute(
            f"SELECT Numero_Fiche FROM ({seen_elsewhere}) WHERE Numero_Fiche NOT IN (SELECT number FROM standard)"
            " ORDER BY Numero_Fiche"
        ):
            yield Rejected(number=number, reason=NO_STANDARD_ROW)


@contextmanager
def _csv_files(path: Path) -> Iterator[dict[str, Opener]]:
    """Openers of the export's files by kind, whether it is a folder or a zip."""
    if path.is_dir():
        files = {_nfc(file.name): (lambda file=file: file.open("rb"))
                 for file in sorted(path.iterdir()) if file.is_file()}
        yield _by_kind(path, files)
        return
    with zipfile.ZipFile(path) as archive:
        files = {_zip_name(info): (lambda info=info: archive.open(info))
                 for info in archive.infolist() if not info.is_dir()}
        yield _by_kind(path, files)


def _zip_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:
        # No UTF-8 flag: zipfile decoded the name as cp437, though France Compétences writes UTF-8.
        try:
            name = name.encode("cp437").decode("utf-8")
        except UnicodeError:
            pass
    return _nfc(PurePosixPath(name).name)


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _by_kind(where: Path, files: dict[str, Opener]) -> dict[str, Opener]:
    matches = {kind: [name for name in files if marker in name.lower() and name.lower().endswith(".csv")]
               for kind, (_, marker) in _CSV_FILES.items()}
    missing = [_CSV_FILES[kind][0] for kind, names in matches.items() if not names]
    if missing:
        raise ExportIncomplete(where, missing)
    for kind, names in matches.items():
        if len(names) > 1:  # e.g. two exports in one folder: mixing them would duplicate rows
            raise ValueError(f"{where}: several {_CSV_FILES[kind][0]} files, cannot tell which to read: {names}")
    return {kind: files[names[0]] for kind, names in matches.items()}


def _index(db: sqlite3.Connection, files: dict[str, Opener]) -> None:
    for kind, columns in _AUX_COLUMNS.items():
        db.execute(f"CREATE TABLE {kind} ({', '.join(columns)})")
        db.executemany(
            f"INSERT INTO {kind} VALUES ({', '.join('?' * len(columns))})",
            (tuple(row[c] for c in columns)
             for row in _csv_rows(files[kind], _CSV_FILES[kind][0], columns) if row["Numero_Fiche"]),
        )
        db.execute(f"CREATE INDEX {kind}_number ON {kind} (Numero_Fiche)")


def _csv_rows(open_file: Opener, label: str, columns: Iterable[str]) -> Iterator[dict[str, str | None]]:
    """The rows of one CSV file, streamed, with every value trimmed (SIRETs come TAB-prefixed) and "" as None."""
    with io.TextIOWrapper(open_file(), encoding=_encoding(open_file), newline="") as text:
        reader = csv.DictReader(text, delimiter=";")
        header = [name.strip() for name in reader.fieldnames or []]
        absent = [column for column in columns if column not in header]
        if absent:
            raise ValueError(f"{label} file: no column {', '.join(absent)} (header: {header})")
        reader.fieldnames = header
        for row in reader:
            yield {column: (row[column] or "").strip() or None for column in columns}


def _encoding(open_file: Opener) -> str:
    """UTF-8 (BOM or not) if the whole file decodes as such, else cp1252 (older exports, Excel copies)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_file() as file:
        try:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _csv_fiche(row: dict[str, str | None], db: sqlite3.Connection) -> Result:
    number = row["Numero_Fiche"]

    def rows(kind: str) -> list[tuple[str | None, ...]]:
        values = ", ".join(_AUX_COLUMNS[kind][1:])
        return db.execute(f"SELECT {values} FROM {kind} WHERE Numero_Fiche = ? ORDER BY rowid", (number,)).fetchall()

    try:
        links = rows("links")  # one row per (old, new) pair of this fiche: either side may be empty
        data = {
            "number": number,
            "title": row["Intitule"],
            "level": _level(row["Nomenclature_Europe_Niveau"]),  # "REPRISE" (no level) -> None
            "active": _active(row["Actif"]),
            "registration_type": row["Type_Enregistrement"],
            "decision_date": _date(row["Date_Decision"], "Date_Decision"),
            "effect_date": _date(row["Date_Effet"], "Date_Effet"),
            "end_date": _date(row["Date_Fin_Enregistrement"], "Date_Fin_Enregistrement"),
            "routes": _csv_routes(label for (label,) in rows("routes")),
            "certifiers": [_given(siret=_siret(siret), name=name) for siret, name in rows("certifiers")],
            "blocks": [_given(code=code, title=title) for code, title in rows("blocks")],
            "predecessors": _unique(old for old, _ in links),
            "successors": _unique(new for _, new in links),
            "idcc": _unique(code for codes in rows("ccn") for code in codes),
        }
    except _Invalid as error:
        return Rejected(number=number, reason=str(error))
    return _build(number, data)


def _active(value: str | None) -> bool | None:
    if value is None:
        return None
    try:
        return {"ACTIVE": True, "INACTIVE": False}[value.upper()]
    except KeyError:
        raise _Invalid(f"Actif: expected ACTIVE or INACTIVE, got {value!r}") from None


def _label_key(label: str) -> str:
    # The labels carry typographic apostrophes (d’élève); copies may have ' or none.
    label = unicodedata.normalize("NFC", label).casefold()
    return _SPACES.sub(" ", _APOSTROPHES.sub("", label)).strip()


_ROUTE_BY_KEY = {_label_key(label): route for label, route in _ROUTE_LABELS.items()}


def _csv_routes(labels: Iterable[str | None]) -> list[str]:
    routes = set()
    for label in labels:
        if label is None:
            continue
        try:
            routes.add(_ROUTE_BY_KEY[_label_key(label)])
        except KeyError:
            raise _Invalid(f"Si_Jury: unknown access route {label!r}") from None
    return [route for route in ROUTES if route in routes]


# ------------------------------------------------------------------------------------------- common


def _build(number: str | None, data: dict[str, Any]) -> Result:
    try:
        return Fiche.model_validate(_given(**data))
    except ValidationError as error:
        return Rejected(number=number, reason=_summary(error))


def _given(**values: Any) -> dict[str, Any]:
    # A value the export does not give is left out, so that a required one reads "title: missing".
    return {key: value for key, value in values.items() if value is not None}


def _summary(error: ValidationError) -> str:
    """'title: missing; certifiers.0.siret: String should match pattern … ('1234')'."""
    parts = []
    for issue in error.errors():
        where = ".".join(str(part) for part in issue["loc"]) or "fiche"
        if issue["type"] == "missing":
            parts.append(f"{where}: missing")
        else:
            given = repr(issue["input"])
            parts.append(f"{where}: {issue['msg']} ({given if len(given) <= 60 else given[:57] + '...'})")
    return "; ".join(parts)


def _level(value: str | None) -> str | None:
    return value if value is not None and _LEVEL.fullmatch(value) else None


def _date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    match = _DATE.fullmatch(value)  # not strptime: it was the slowest step of reading a fiche
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:  # e.g. 31/02/2024
            pass
    raise _Invalid(f"{field}: not a dd/mm/yyyy date ({value!r})")


def _siret(value: str | None) -> str | None:
    # The CSV prefixes SIRETs with a TAB (to keep spreadsheets from eating the leading zeros); copies add spaces.
    if value is None:
        return None
    return _SPACES.sub("", value) or None


def _unique(values: Iterable[str | None]) -> list[str]:
    """The non-empty values, first occurrence kept, in order."""
    return list(dict.fromkeys(value for value in values if value))
