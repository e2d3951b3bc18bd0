"""Benchmark: `cqp catalog import` of a 5,000-fiche France Compétences XML V4.1 export, end to end.

Not part of the suite (the file name does not start with test_); run it by name:

    scripts/test tests/bench/bench_import.py -s

It prints the figures and asserts only correctness (what the import reports), never a speed.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import asyncpg

from shared.commands.catalog import Fiche
from services.catalog.france_competences.readers import read_xml
from services.catalog.importer import selected
from tests.harness import ROOT, System

DATA = ROOT.parent / "shared" / "data" / "france-competences"
TEMPLATE = DATA / "04_mcp-rncp_FC-xml-V4.1_fixture" / "RNCP40344_ASV_branch-cert_paritaire-jury.xml"
FICHES = 5_000
BLOCKS = 5
FIRST_NUMBER = 90_000  # RNCP90000 ... RNCP94999
OWNER = "UIMM"

BRANCH = """mutation($input: CreateBranchInput!, $key: String!) {
  createBranch(input: $input, idempotencyKey: $key) { __typename ... on Error { code message } } }"""

# Runs the CLI's main in a child process that reports its own peak RSS and CPU. Not ru_maxrss: RUSAGE_CHILDREN
# is the maximum over every child waited for, and even RUSAGE_SELF in the child starts from the RSS its parent
# had when it forked (Linux carries the high-water mark across exec: a child of a 200 MB process reports 200 MB).
# VmHWM belongs to the memory of the exec'd program alone.
WRAPPER = """
import re, resource, sys
from tools.cli import main
code = main(["catalog", "import", *sys.argv[1:]])
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())[1]
print(f"@rusage peak_kb={peak} user={usage.ru_utime:.2f} system={usage.ru_stime:.2f}", flush=True)
sys.exit(code)
"""

EVALUATIONS = [  # besides the template's own MODALITES_EVALUATION texts
    "Mise en situation professionnelle reconstituée sur un poste de travail équipé, observée par deux évaluateurs "
    "désignés par la CPNE, l'un du collège employeur, l'autre du collège salarié, à l'aide d'une grille critériée.",
    "Étude de cas écrite portant sur une situation réelle de l'entreprise, suivie d'un entretien de trente minutes "
    "au cours duquel le candidat présente et justifie ses choix techniques et organisationnels.",
    "Dossier professionnel rédigé par le candidat, décrivant au moins deux situations de travail vécues, "
    "complété par l'attestation du tuteur et l'évaluation en entreprise réalisée sur la période de formation.",
    "Questionnaire de connaissances sur les règles d'hygiène, de sécurité et de qualité applicables au poste, "
    "corrigé selon un barème national ; la note minimale de douze sur vingt est exigée.",
]


# ------------------------------------------------------------------------------------------ the export


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"\s{3,}", text) if s.strip()]


def _cut(sentences: list[str], start: int, length: int) -> str:
    """Sentences from `start` (cycling) joined, cut at a word to about `length` characters."""
    text, i = "", start
    while len(text) < length:
        text += ("  " if text else "") + sentences[i % len(sentences)]
        i += 1
    cut = text[:length].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut if cut.endswith(".") else cut + "."


def fiche_template() -> tuple[str, list[str], list[str], list[str]]:
    """A real FICHE element as text, with @FIELD@ placeholders; the real block titles, competences, modalities."""
    fiche = ET.parse(TEMPLATE).getroot().find("FICHE")
    for tag in ("ANCIENNES_CERTIFICATIONS", "CORRESPONDANCES"):  # links to fiches that are not in this export
        fiche.remove(fiche.find(tag))
    blocks = fiche.find("BLOCS_COMPETENCES")
    titles = [b.findtext("LIBELLE") for b in blocks]
    competences = [s for b in blocks for s in _sentences(b.findtext("LISTE_COMPETENCES"))]
    modalities = [s for b in blocks for s in _sentences(b.findtext("MODALITES_EVALUATION"))] + EVALUATIONS
    blocks.clear()
    blocks.text = "@BLOCKS@"
    blocks.tail = "\n    "
    for path, placeholder in (("ID_FICHE", "@ID@"), ("NUMERO_FICHE", "@NUMBER@"), ("INTITULE", "@TITLE@"),
                              ("ETAT_FICHE", "Publiée"), ("NOMENCLATURE_EUROPE/NIVEAU", "@LEVEL@"),
                              ("NOMENCLATURE_EUROPE/LIBELLE", "@LEVEL_LABEL@"), ("DATE_DECISION", "@DECISION@"),
                              ("DATE_FIN_ENREGISTREMENT", "@END@"), ("DATE_LIMITE_DELIVRANCE", "@DEADLINE@"),
                              ("CERTIFICATEURS/CERTIFICATEUR/SIRET_CERTIFICATEUR", "@SIRET@")):
        fiche.find(path).text = placeholder
    assert fiche.findtext("SI_JURY_VAE/ACTIF") == "Oui" and fiche.findtext("ACTIF") == "Oui"
    return ET.tostring(fiche, encoding="unicode"), titles, competences, modalities


def write_export(path: Path, fiches: int = FICHES) -> None:
    template, titles, competences, modalities = fiche_template()
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<FICHES>\n  <VERSION_FLUX>4.1</VERSION_FLUX>\n  ')
        for n in range(fiches):
            number = f"RNCP{FIRST_NUMBER + n}"
            title = f"CQPM Opérateur régleur n°{n}" if n % 2 else f"CQP Technicien de maintenance industrielle n°{n}"
            level = 3 + n % 3
            decided = date(2022, 1, 3) + timedelta(days=n % 900)
            blocks = "".join(
                f"\n        <BLOC_COMPETENCES>\n          <CODE>{number}BC0{b}</CODE>\n"
                f"          <LIBELLE>{escape(titles[b % len(titles)])} ({b})</LIBELLE>\n"
                f"          <LISTE_COMPETENCES>{escape(_cut(competences, n + b, 300 + (n * 37 + b * 101) % 500))}"
                "</LISTE_COMPETENCES>\n"
                f"          <MODALITES_EVALUATION>{escape(_cut(modalities, n * 3 + b, 300 + (n * 53 + b * 89) % 500))}"
                "</MODALITES_EVALUATION>\n        </BLOC_COMPETENCES>"
                for b in range(1, BLOCKS + 1)
            ) + "\n      "
            values = {"@ID@": str(100_000 + n), "@NUMBER@": number, "@TITLE@": escape(title),
                      "@LEVEL@": f"NIV{level}", "@LEVEL_LABEL@": f"Niveau {level}",
                      "@DECISION@": f"{decided:%d/%m/%Y}", "@END@": f"{decided + timedelta(days=5 * 365):%d/%m/%Y}",
                      "@DEADLINE@": f"{decided + timedelta(days=9 * 365):%d/%m/%Y}",
                      "@SIRET@": f"{n:09d}00013", "@BLOCKS@": blocks}
            out.write(re.sub("|".join(values), lambda m: values[m[0]], template))
        out.write("</FICHES>\n")


# ------------------------------------------------------------------------------------------ measuring


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine (every core), from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children, the live ones and those it waited for (PostgreSQL's backends)."""
    def own(stat_pid) -> tuple[str, list[int]]:
        fields = Path(f"/proc/{stat_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[1], [int(f) for f in fields[11:15]]  # ppid; utime, stime, cutime, cstime

    total = sum(own(pid)[1])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid, times = own(entry.name)
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(ppid) == pid:
                total += sum(times)
    return total / os.sysconf("SC_CLK_TCK")


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:port (or any address), found through its socket's inode."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    return int(entry.name)
            except OSError:
                continue
    return None


def infrastructure_pids(system: System) -> dict[str, int]:
    """PostgreSQL's postmaster and the Kafka broker, when they run on this machine (as scripts/test starts them)."""
    ports = {"postgres": urlsplit(system.dsn).port or 5432, "kafka": int(system.kafka.rsplit(":", 1)[1])}
    return {name: pid for name, port in ports.items() if (pid := listening_pid(port))}


def peak_rss_mb(pid: int) -> float:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match[1]) / 1024


async def run_import(system: System, path: Path, others: dict[str, int]) -> dict:
    env = system.importer_env()
    cpu = {name: cpu_seconds(system[name].popen.pid) for name in ("catalog", "gateway")}
    tree = {name: tree_cpu_seconds(pid) for name, pid in others.items()}
    busy = machine_busy_seconds()
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRAPPER, str(path), "--owner", OWNER, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await child.communicate()
    seconds = time.perf_counter() - started
    assert child.returncode == 0, stderr.decode()
    out = stdout.decode()
    usage = dict(re.findall(r"(\w+)=([\d.]+)", re.search(r"^@rusage (.*)$", out, re.M)[1]))
    return {
        "output": out, "seconds": seconds, "ended": time.perf_counter(),
        "rss_mb": int(usage["peak_kb"]) / 1024, "importer_cpu": float(usage["user"]) + float(usage["system"]),
        "cpu": {**{name: cpu_seconds(system[name].popen.pid) - before for name, before in cpu.items()},
                **{name: tree_cpu_seconds(others[name]) - before for name, before in tree.items()}},
        "machine_cpu": machine_busy_seconds() - busy,
    }


async def watch_projection(system: System, started: float, fiches: int, timeout: float = 1800) -> dict:
    """When the gateway's read model first holds every certification, and every one fully projected
    (its last event, CertifiersRecorded, applied)."""
    seen: dict = {}
    deadline = time.monotonic() + timeout
    conn = await asyncpg.connect(system.dsn)
    try:
        while "complete" not in seen and time.monotonic() < deadline:
            row = await conn.fetchrow("SELECT count(*) AS rows, count(*) FILTER (WHERE certifiers <> '[]'::jsonb)"
                                      " AS complete FROM gateway.certifications")
            for what in ("rows", "complete"):
                if row[what] >= fiches and what not in seen:
                    seen[what] = time.perf_counter()
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
    return {what: at - started for what, at in seen.items()}


def cpu_lines(run: dict) -> str:
    """Where the CPU went while the import ran: each core may be busy for the wall time."""
    parts = {"importer": run["importer_cpu"], **run["cpu"]}
    parts["rest of the machine"] = run["machine_cpu"] - sum(parts.values())
    cores = os.cpu_count()
    return (f"  CPU seconds     machine busy {run['machine_cpu']:.1f} of {cores * run['seconds']:.1f} ({cores} cores x wall),"
            f" {1000 * run['machine_cpu'] / FICHES:.0f} ms a fiche"
            f"\n                  " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in parts.items()))


def summary(output: str) -> dict[str, int]:
    line = next(line for line in output.splitlines() if line.startswith("fiches read:"))
    return {name.strip(): int(value) for name, value in re.findall(r"([a-z ()]+): (\d+)", line)}


# ------------------------------------------------------------------------------------------ the benchmark


async def test_importing_5000_fiches_with_5_blocks_each(system: System, tmp_path):
    export = tmp_path / "export_fiches_RNCP_V4_1_bench.xml"
    started = time.perf_counter()
    write_export(export)
    generated = time.perf_counter() - started
    size_mb = export.stat().st_size / 1e6

    # The reader alone, in this process: every fiche read, none rejected, every one selected without --all.
    started = time.perf_counter()
    read, lengths = 0, []
    for fiche in read_xml(export):
        assert isinstance(fiche, Fiche), fiche  # not a Rejected
        assert selected(fiche, False, set()), fiche.title
        assert len(fiche.blocks) == BLOCKS and fiche.routes[-1] == "VAE" and fiche.level and fiche.certifiers[0].siret
        lengths += [len(text) for b in fiche.blocks for text in (b.competences, b.modalities)]
        read += 1
    reading = time.perf_counter() - started
    assert read == FICHES

    await system.start("catalog", "gateway")
    created = await system.graphql(BRANCH, {"input": {"code": OWNER, "name": "Métallurgie", "idcc": ["3109"]},
                                            "key": "bench-branch"})
    assert created["createBranch"]["__typename"] == "BranchCreated"

    others = infrastructure_pids(system)
    began = time.perf_counter()
    projection = asyncio.create_task(watch_projection(system, began, FICHES))
    first = await run_import(system, export, others)
    projected = await projection
    events = (await system.sql("SELECT count(*) AS n, pg_total_relation_size('catalog.catalog_events') AS bytes"
                               " FROM catalog.catalog_events"))[0]

    second = await run_import(system, export, others)
    events_after = (await system.sql("SELECT count(*) AS n FROM catalog.catalog_events"))[0]["n"]
    export.unlink()  # 170 MB: pytest keeps the last few tmp_path folders

    first_counts, second_counts = summary(first["output"]), summary(second["output"])
    import_end = first["ended"] - began
    nan = float("nan")
    print(f"""
================ catalog import benchmark ================
export            {FICHES} fiches x {BLOCKS} blocks, {size_mb:.1f} MB XML V4.1 (generated in {generated:.1f} s)
                  competences/modalities texts {min(lengths)}-{max(lengths)} chars
reader alone      {reading:.1f} s in-process ({FICHES / reading:.0f} fiches/s, {size_mb / reading:.1f} MB/s)
first import      {first['seconds']:.1f} s wall  ->  {FICHES / first['seconds']:.1f} fiches/s
                  {first['output'].splitlines()[0]}
  importer        peak RSS {first['rss_mb']:.1f} MB
  catalog service peak RSS so far {peak_rss_mb(system['catalog'].popen.pid):.0f} MB
  events written  {events['n']} ({(events['n'] - 2) / FICHES:.1f} a fiche with its command record; 2 for the branch), """
          f"""catalog_events {events['bytes'] / 1e6:.0f} MB
{cpu_lines(first)}
gateway           all {FICHES} rows after {projected.get('rows', nan):.1f} s, fully projected after """
          f"""{projected.get('complete', nan):.1f} s from the import's start
                  = {projected.get('complete', nan) - import_end:.1f} s after the import ended
re-import         {second['seconds']:.1f} s wall  ->  {FICHES / second['seconds']:.1f} fiches/s (no-op)
                  {second['output'].splitlines()[0]}
  importer        peak RSS {second['rss_mb']:.1f} MB
{cpu_lines(second)}
===========================================================""")

    assert first_counts["fiches read"] == FICHES
    assert (first_counts["created"], first_counts["rejected"], first_counts["skipped (not a branch certification)"]) \
        == (FICHES, 0, 0), first["output"][:2000]
    assert (second_counts["unchanged"], second_counts["created"], second_counts["updated"], second_counts["rejected"]) \
        == (FICHES, 0, 0, 0), second["output"][:2000]
    assert events_after == events["n"]  # the re-import wrote nothing
    assert "complete" in projected, f"the gateway did not show all {FICHES} certifications: {projected}"
