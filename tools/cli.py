"""`cqp`: the operators' single entry point.

    cqp serve catalog|candidacy|jury|gateway   run one process (same as python -m services.<name>)
    cqp topics                                 create the event topics that are missing, and their ACLs
    cqp database                               (admin's DSN) the processes' roles, passwords from
                                               CQP_POSTGRES_PASSWORD_<PROCESS>, and their schemas
    cqp token --user U                         print an access token of a demo user (development: password grant)
    cqp cipher-key                             print a new key for CQP_CIPHER_KEY
    cqp demo [--graphql URL]                   load the demo data set through the GraphQL API
    cqp contracts write|check                  regenerate or verify the checked-in SDL and AsyncAPI
    cqp gateway rebuild                        (gateway stopped) rebuild its read models from the topics
    cqp dead-letters list [--schema S]         what the consumers set aside, and why
    cqp republish SERVICE [--from POSITION]    publish again what a service's topic lacks, from its event store
    cqp verify [--wait SECONDS]                compare every topic and every read model with the event stores,
                                               and every document's object with the events recording it (S3
                                               keys: CQP_S3_ACCESS_KEY_<SERVICE> and CQP_S3_SECRET_KEY_<SERVICE>,
                                               or the _ADMIN pair, as deploy/s3's secrets.env names them;
                                               exit status 1 on any drift)
    cqp documents purge --kept-until DAY [--dry-run]
                                               purge every document whose keeping period ended on or before DAY
                                               (not after today): a purge-document command each, sent to its
                                               service with CQP_TOKEN (a platform-admin's); prints each purged
    cqp replay                                 rebuild every read model from the topics while the current ones
                                               serve, then swap them in
    cqp dead-letters retry|discard --schema S (--all | --topic T --partition P --offset O)
    cqp candidacy import FILE.csv              register candidates and open their candidacies, a line each
                                               (with the token in CQP_TOKEN); a report per line
    cqp cdc export --branch B --to FILE        declare a branch's undeclared holders to the Caisse des Dépôts
                                               (XML validated against the official schema; CQP_TOKEN)
    cqp cdc report FILE                        apply the portal's processing report (accepted / rejected)
    cqp keys rotate BRANCH                     retire the branch's seal and credential keys (they stay published:
                                               what they signed still verifies); the next issuance makes new ones
    cqp credential verify FILE [--json] [--cache DIR] [--base URL]
                                               check a sealed PDF or a credential (.jwt) offline: valid, revoked
                                               (when, why), expired, not-yet-valid, tampered (exit status 0 only
                                               when valid); the issuer's keys and status lists fetched, or their
                                               cached copy (its age said) when unreachable; no database
    cqp catalog import PATH [--owner UIMM] [--all] [--fiche RNCP34174]
                                               import a France Compétences export (XML, CSV zip or folder),
                                               as the importer account (CQP_CLIENT_ID, CQP_CLIENT_SECRET)
                                               or with the token in CQP_TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import runpy
import sys
from datetime import date
from pathlib import Path

import httpx

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SDL_PATH = ROOT / "services" / "gateway" / "schema.graphql"
ASYNCAPI_PATH = ROOT / "shared" / "contracts" / "asyncapi.json"
PROCESSES = ("catalog", "candidacy", "jury", "gateway")


def generated_contracts() -> dict[Path, str]:
    """The checked-in files made from the code: the SDL, the AsyncAPI document and the role tables of the
    services' READMEs."""
    from services.gateway.schema import schema
    from tools.asyncapi import document
    from shared.policy import with_table

    readmes = {ROOT / "services" / service / "README.md": service for service in PROCESSES}
    return {SDL_PATH: schema.as_str() + "\n", ASYNCAPI_PATH: document(),
            **{path: with_table(path.read_text() if path.exists() else "", service) for path, service in readmes.items()}}


def contracts(action: str) -> int:
    stale = []
    for path, text in generated_contracts().items():
        if action == "write":
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
        elif not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(ROOT)))
    if stale:
        print("out of date, run `cqp contracts write`: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cqp", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run one process")
    serve.add_argument("process", choices=PROCESSES)
    sub.add_parser("topics", help="create the event topics and their ACLs")
    sub.add_parser("database", help="create the processes' roles and schemas (with an admin's DSN)")
    sub.add_parser("cipher-key", help="print a new key for CQP_CIPHER_KEY")
    token = sub.add_parser("token", help="print an access token from the identity provider (development)")
    token.add_argument("--user", required=True, help="a user of the realm, e.g. uimm-admin")
    token.add_argument("--client", default="cqp-cli", help="the realm's development client")
    demo = sub.add_parser("demo", help="load the demo data through GraphQL")
    demo.add_argument("--graphql", default="http://127.0.0.1:8000/graphql")
    contract = sub.add_parser("contracts", help="the checked-in SDL and AsyncAPI")
    contract.add_argument("action", choices=("write", "check"))
    gateway = sub.add_parser("gateway", help="gateway operations").add_subparsers(dest="action", required=True)
    gateway.add_parser("rebuild", help="rebuild the read models from the event topics (gateway stopped)")
    letters = sub.add_parser("dead-letters", help="the messages consumers set aside")
    letters.add_argument("action", choices=("list", "retry", "discard"))
    letters.add_argument("--schema", choices=("gateway", "candidacy", "jury"))
    letters.add_argument("--all", action="store_true", help="every dead letter of the schema")
    letters.add_argument("--topic")
    letters.add_argument("--partition", type=int)
    letters.add_argument("--offset", type=int)
    republish = sub.add_parser("republish", help="restore a service's topic from its event store")
    republish.add_argument("service", choices=("catalog", "candidacy", "jury"))
    republish.add_argument("--from", dest="start", type=int, default=1, help="first store position (default: 1)")
    verify = sub.add_parser("verify", help="check the topics and read models against the event stores")
    verify.add_argument("--wait", type=float, default=60, help="how long to wait for the consumers to catch up")
    sub.add_parser("replay", help="rebuild every read model from the topics, without downtime")
    docs = sub.add_parser("documents", help="documents' operations").add_subparsers(dest="action", required=True)
    purging = docs.add_parser("purge", help="apply the keeping periods (shared/documents.py KINDS: keep_years)")
    purging.add_argument("--kept-until", required=True, type=date.fromisoformat,
                         help="YYYY-MM-DD, not after today: purge what was kept until then")
    purging.add_argument("--dry-run", action="store_true", help="list what would be purged, send nothing")
    candidacy = sub.add_parser("candidacy", help="candidacy operations").add_subparsers(dest="action", required=True)
    bulk = candidacy.add_parser("import", help="register candidates (and open candidacies) from a CSV file")
    bulk.add_argument("path", type=Path)
    cdc = sub.add_parser("cdc", help="the declaration of holders to the Caisse des Dépôts").add_subparsers(
        dest="action", required=True)
    cdc_export = cdc.add_parser("export", help="write the XML of every undeclared award of a branch")
    cdc_export.add_argument("--branch", required=True)
    cdc_export.add_argument("--to", required=True, type=Path)
    cdc_export.add_argument("--client-id", default=os.environ.get("CQP_CDC_CLIENT_ID"),
                            help="the certifier's idClient at the Caisse des Dépôts (or CQP_CDC_CLIENT_ID)")
    cdc_export.add_argument("--contract-id", default=os.environ.get("CQP_CDC_CONTRACT_ID"),
                            help="its idContrat (or CQP_CDC_CONTRACT_ID)")
    cdc_report = cdc.add_parser("report", help="apply the portal's processing report")
    cdc_report.add_argument("path", type=Path)
    cdc_report.add_argument("--file", help="the idFlux, when the report does not name it")
    catalog = sub.add_parser("catalog", help="catalog operations").add_subparsers(dest="action", required=True)
    importing = catalog.add_parser("import", help="import a France Compétences export through the catalog's API")
    importing.add_argument("path", type=Path)
    importing.add_argument("--owner", action="append", default=[], help="branch owning the imported certifications")
    importing.add_argument("--kind", choices=("CQP", "CQPM", "CQPI"), help="default: from each fiche's title")
    importing.add_argument("--all", action="store_true", help="every fiche, not only those whose title names a CQP")
    importing.add_argument("--fiche", action="append", default=[], help="only this fiche number (repeatable)")
    keys = sub.add_parser("keys", help="the issuer's keys").add_subparsers(dest="action", required=True)
    keys.add_parser("rotate", help="retire a branch's seal and credential keys").add_argument("branch")
    deadlines = sub.add_parser("deadlines", help="the deadline engine").add_subparsers(dest="action", required=True)
    clock = deadlines.add_parser("clock", help="show the deadline clock's day, or move it forward (CQP_DEADLINES_"
                                               "CLOCK_ADJUSTABLE installations only: demonstrations, tests)")
    clock.add_argument("--advance", type=int, metavar="DAYS", help="days to move it forward")
    credential = sub.add_parser("credential", help="certificates' credentials").add_subparsers(dest="action",
                                                                                              required=True)
    checking = credential.add_parser("verify", help="check a sealed PDF or a credential offline")
    checking.add_argument("file", type=Path)
    checking.add_argument("--json", action="store_true", help="one line of JSON")
    checking.add_argument("--cache", type=Path, help="where fetched keys and lists are kept (default: user cache)")
    checking.add_argument("--base", help="fetch the issuer's documents from this address instead (a mirror)")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "serve":
        sys.argv = [f"services.{args.process}"]
        runpy.run_module(f"services.{args.process}", run_name="__main__")
    elif args.command == "topics":
        from shared.kafka import client_options
        from shared.topics import ensure_topics

        created = asyncio.run(ensure_topics(client_options(settings), settings.topic_prefix))
        print("created: " + (", ".join(created) or "none (all present)"))
    elif args.command == "database":
        from tools.database import provision

        passwords = {p: os.environ[f"CQP_POSTGRES_PASSWORD_{p.upper()}"] for p in PROCESSES
                     if os.environ.get(f"CQP_POSTGRES_PASSWORD_{p.upper()}")}
        asyncio.run(provision(settings.postgres_dsn, passwords))
        print("roles " + (", ".join(sorted(passwords)) or "unchanged") + "; a schema for each process")
    elif args.command == "cipher-key":
        from eventsourcing.cryptography import AESCipher

        print(AESCipher.create_key(32))
    elif args.command == "token":
        return print_token(settings, args.user, args.client)
    elif args.command == "demo":
        from tools.demo import load

        return asyncio.run(load(args.graphql, settings.oidc_issuer, demo_password()))
    elif args.command == "contracts":
        return contracts(args.action)
    elif args.command == "gateway":
        from services.gateway.rebuild import rebuild

        partitions = asyncio.run(rebuild(settings))
        print(f"read models dropped; {partitions} partitions will be read again from the start by the gateway")
    elif args.command == "dead-letters":
        from tools import deadletters
        from shared.kafka import client_options

        if args.action == "list":
            print("\n".join(asyncio.run(deadletters.list_letters(settings.postgres_dsn, args.schema))))
            return 0
        one = args.topic is not None and args.partition is not None and args.offset is not None
        if not args.schema or one == args.all:
            raise OperatorError("give --schema, and either --all or --topic, --partition and --offset")
        letter = None if args.all else {"topic": args.topic, "partition": args.partition, "offset": args.offset}
        if args.action == "retry":
            count = asyncio.run(deadletters.retry(settings.postgres_dsn, client_options(settings), args.schema, letter))
            print(f"{count} dead letters published again")
        else:
            print(f"{asyncio.run(deadletters.discard(settings.postgres_dsn, args.schema, letter))} dead letters discarded")
    elif args.command == "republish":
        from tools.republish import republish

        sent, present = asyncio.run(republish(settings, args.service, args.start))
        print(f"{sent} events published again ({present} of the range were on the topic already)")
    elif args.command == "verify":
        from tools.verify import verify

        report = asyncio.run(verify(settings, args.wait))
        print("\n".join(report.lines()))
        return 1 if report.drifts else 0
    elif args.command == "documents":
        from tools.documents import purge

        if not os.environ.get("CQP_TOKEN") and not args.dry_run:
            raise OperatorError("set CQP_TOKEN to a platform-admin's access token (`cqp token --user ...`)")

        async def purge_all():
            async with httpx.AsyncClient(timeout=30) as http:
                return await purge(settings, args.kept_until, None if args.dry_run else operator_token(settings, http),
                                   args.dry_run)

        lines, ok = asyncio.run(purge_all())
        print("\n".join(lines))
        return 0 if ok else 1
    elif args.command == "replay":
        from tools.replay import replay

        print("\n".join(asyncio.run(replay(settings))))
    elif args.command == "cdc":
        from services.jury.cdc import operations

        if not os.environ.get("CQP_TOKEN"):
            raise OperatorError("set CQP_TOKEN to the access token of the branch's certifier (`cqp token --user ...`)")

        async def declare():
            async with httpx.AsyncClient(timeout=30) as http:
                token = operator_token(settings, http)
                if args.action == "report":
                    return await operations.report(args.path, settings.jury_url, token, args.file)
                if not (args.client_id and args.contract_id):
                    raise OperatorError("give --client-id and --contract-id (the certifier's ids at the Caisse des "
                                        "Dépôts), or CQP_CDC_CLIENT_ID and CQP_CDC_CONTRACT_ID")
                return await operations.export(settings.postgres_dsn, args.branch, args.client_id, args.contract_id,
                                               args.to, settings.jury_url, token, settings.candidacy_url)

        print("\n".join(asyncio.run(declare())))
    elif args.command == "candidacy":
        from services.candidacy.bulk import import_candidates

        if not os.environ.get("CQP_TOKEN"):
            raise OperatorError("set CQP_TOKEN to the access token of who registers them (`cqp token --user ...`)")

        async def register_all():
            async with httpx.AsyncClient(timeout=30) as http:
                return await import_candidates(args.path, settings.candidacy_url, operator_token(settings, http))

        print("\n".join(asyncio.run(register_all()).summary()))
    elif args.command == "keys":
        from tools.credentials import rotate

        retired = asyncio.run(rotate(settings.postgres_dsn, args.branch))
        print(f"{args.branch.upper()}: retired " + (", ".join(retired) or "nothing (no current key)")
              + "; the next issuance makes new keys")
    elif args.command == "deadlines":
        from tools.deadlines import clock

        if args.advance is not None and not settings.deadlines_clock_adjustable:
            raise OperatorError("this installation's deadline clock is the real day: set "
                                "CQP_DEADLINES_CLOCK_ADJUSTABLE=true (demonstrations and tests only) to move it")
        if args.advance is not None and args.advance < 0:
            raise OperatorError("the deadline clock only moves forward (what was due or missed stays so)")
        print(f"deadline clock: {asyncio.run(clock(settings.postgres_dsn, args.advance or 0))}")
    elif args.command == "credential":
        import json

        from tools.credentials import default_cache, line, verify_file

        result = verify_file(args.file, args.cache or default_cache(), args.base)
        print(json.dumps(result, ensure_ascii=False) if args.json else line(result))
        return 0 if result["verdict"] == "valid" else 1
    elif args.command == "catalog":
        from services.catalog.france_competences.readers import read_export
        from services.catalog.importer import import_export

        read_export(args.path)  # the format is recognised before anything is sent

        async def send_all():
            async with httpx.AsyncClient(timeout=30) as http:
                return await import_export(args.path, settings.catalog_url, operator_token(settings, http),
                                           args.owner, args.kind, args.all, set(args.fiche))

        summary = asyncio.run(send_all())
        print("\n".join(summary.lines()))
        if unknown := sorted({r for _, r in summary.rejected if r.startswith("UnknownBranch")}):
            raise OperatorError(f"no such branch in the catalog: {unknown[0]} (create it first, or fix --owner)")
    return 0


class OperatorError(Exception):
    """An operator's mistake, answered in one line."""


def main(argv: list[str] | None = None) -> int:
    """`cqp`: an operator's mistake (a missing file, a wrong format, an unknown branch, a service that does
    not answer) is one clear line on stderr and exit status 2, never a traceback."""
    try:
        return run(argv)
    except (OperatorError, OSError, ValueError, SyntaxError) as error:  # SyntaxError: an XML file that is not XML
        print(f"cqp: {error}", file=sys.stderr)
        return 2
    except httpx.TransportError as error:
        print(f"cqp: a service did not answer ({type(error).__name__}): check the URLs in CQP_*_URL", file=sys.stderr)
        return 2


def demo_password() -> str:
    """The demo users' password: made per machine by deploy/keycloak/keycloak.sh, never committed."""
    if password := os.environ.get("CQP_DEMO_PASSWORD"):
        return password
    try:
        return getpass.getpass("password of the demo users: ")
    except EOFError:
        raise SystemExit("cqp: no password: set CQP_DEMO_PASSWORD (scripts/dev prints where it is)") from None


def print_token(settings: Settings, user: str, client: str) -> int:
    from shared.identity import TokenRefused, password_token

    password = os.environ.get("CQP_PASSWORD") or demo_password()

    async def fetch() -> str:
        async with httpx.AsyncClient(timeout=30) as http:
            return await password_token(settings.oidc_issuer, client, user, password, http)

    try:
        print(asyncio.run(fetch()))
    except (TokenRefused, httpx.HTTPError) as error:
        print(f"cqp token: {error}", file=sys.stderr)
        return 1
    return 0


def operator_token(settings: Settings, http: httpx.AsyncClient):
    """The token of a batch tool: CQP_TOKEN as given, or the process's own account (client credentials)."""
    from shared.identity import CachedToken, client_token

    if token := os.environ.get("CQP_TOKEN"):
        async def given() -> str:
            return token

        return given
    if not (settings.client_id and settings.client_secret):
        raise SystemExit("cqp: set CQP_TOKEN, or CQP_CLIENT_ID and CQP_CLIENT_SECRET of the importer account")
    return CachedToken(lambda: client_token(settings.oidc_issuer, settings.client_id, settings.client_secret, http))


if __name__ == "__main__":
    sys.exit(main())
