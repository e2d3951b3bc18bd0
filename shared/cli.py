"""`cqp`: the operators' single entry point.

    cqp serve catalog|candidacy|jury|gateway   run one process (same as python -m services.<name>)
    cqp topics                                 create the event topics that are missing
    cqp token --user U --organisation O --role R   print a bearer token for the gateway
    cqp cipher-key                             print a new key for CQP_CIPHER_KEY
    cqp demo [--graphql URL]                   load the demo data set through the GraphQL API
    cqp contracts write|check                  regenerate or verify the checked-in SDL and AsyncAPI
    cqp gateway rebuild                        (gateway stopped) rebuild its read models from the topics
    cqp catalog import PATH [--owner UIMM] [--all] [--fiche RNCP34174]
                                               import a France Compétences export (XML, CSV zip or folder)
"""

from __future__ import annotations

import argparse
import asyncio
import runpy
import sys
from pathlib import Path

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SDL_PATH = ROOT / "services" / "gateway" / "schema.graphql"
ASYNCAPI_PATH = ROOT / "shared" / "contracts" / "asyncapi.json"
PROCESSES = ("catalog", "candidacy", "jury", "gateway")


def generated_contracts() -> dict[Path, str]:
    from services.gateway.schema import schema
    from shared.asyncapi import document

    return {SDL_PATH: schema.as_str() + "\n", ASYNCAPI_PATH: document()}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cqp", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run one process")
    serve.add_argument("process", choices=PROCESSES)
    sub.add_parser("topics", help="create the event topics")
    sub.add_parser("cipher-key", help="print a new key for CQP_CIPHER_KEY")
    token = sub.add_parser("token", help="print a bearer token")
    token.add_argument("--user", required=True)
    token.add_argument("--organisation", required=True)
    token.add_argument("--role", required=True)
    demo = sub.add_parser("demo", help="load the demo data through GraphQL")
    demo.add_argument("--graphql", default="http://127.0.0.1:8000/graphql")
    contract = sub.add_parser("contracts", help="the checked-in SDL and AsyncAPI")
    contract.add_argument("action", choices=("write", "check"))
    gateway = sub.add_parser("gateway", help="gateway operations").add_subparsers(dest="action", required=True)
    gateway.add_parser("rebuild", help="rebuild the read models from the event topics (gateway stopped)")
    catalog = sub.add_parser("catalog", help="catalog operations").add_subparsers(dest="action", required=True)
    importing = catalog.add_parser("import", help="import a France Compétences export through the catalog's API")
    importing.add_argument("path", type=Path)
    importing.add_argument("--owner", action="append", default=[], help="branch owning the imported certifications")
    importing.add_argument("--kind", choices=("CQP", "CQPM", "CQPI"), help="default: from each fiche's title")
    importing.add_argument("--all", action="store_true", help="every fiche, not only those whose title names a CQP")
    importing.add_argument("--fiche", action="append", default=[], help="only this fiche number (repeatable)")
    importing.add_argument("--user", default="catalog-importer")
    importing.add_argument("--organisation", default="CATALOG")
    importing.add_argument("--role", default="catalog-admin")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "serve":
        sys.argv = [f"services.{args.process}"]
        runpy.run_module(f"services.{args.process}", run_name="__main__")
    elif args.command == "topics":
        from shared.topics import ensure_topics

        created = asyncio.run(ensure_topics(settings.kafka_bootstrap, settings.topic_prefix))
        print("created: " + (", ".join(created) or "none (all present)"))
    elif args.command == "cipher-key":
        from eventsourcing.cryptography import AESCipher

        print(AESCipher.create_key(32))
    elif args.command == "token":
        from shared.auth import issue_token
        from shared.context import Actor

        print(issue_token(settings.auth_secret, Actor(user_id=args.user, organisation_id=args.organisation, role=args.role)))
    elif args.command == "demo":
        from shared.demo import load

        return asyncio.run(load(args.graphql, settings.auth_secret))
    elif args.command == "contracts":
        return contracts(args.action)
    elif args.command == "gateway":
        from services.gateway.rebuild import rebuild

        partitions = asyncio.run(rebuild(settings))
        print(f"read models dropped; {partitions} partitions will be read again from the start by the gateway")
    elif args.command == "catalog":
        from services.catalog.importer import import_export
        from shared.context import Actor

        actor = Actor(user_id=args.user, organisation_id=args.organisation, role=args.role)
        summary = asyncio.run(import_export(args.path, settings.catalog_url, actor, args.owner, args.kind, args.all,
                                            set(args.fiche)))
        print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
