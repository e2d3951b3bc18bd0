"""The candidacy process: python -m services.candidacy"""

from shared.contracts.candidacy import TOPIC
from shared.contracts.catalog import TOPIC as CATALOG_TOPIC
from shared.contracts.jury import TOPIC as JURY_TOPIC
from shared import personal
from shared.service import ServiceDefinition, Subscription, run
from shared.settings import Settings

from services.candidacy import api, catalog_view, documents, jury_events, notices, people
from services.candidacy.application import CandidacyApplication

DEFINITION = ServiceDefinition(
    name="candidacy",
    application=CandidacyApplication,
    topic=TOPIC,
    commands=api.commands,
    views={CATALOG_TOPIC: catalog_view.apply_catalog, JURY_TOPIC: catalog_view.apply_jury},
    migrations=catalog_view.MIGRATIONS,
    tables=[*personal.MIGRATIONS, *jury_events.MIGRATIONS, *notices.MIGRATIONS],
    subscriptions=lambda app, pool: [Subscription(JURY_TOPIC, jury_events.handler(app)),
                                     *notices.subscriptions(notices.Notifier(app, pool, Settings()))],
    loops=lambda app, pool, settings: [notices.sender(app, pool, settings).run()],
    queries=lambda app, pool, verifier: {**people.queries(people.People(app, pool), verifier),
                                         **documents.queries(app, pool, verifier)},
    encrypted=True,
    personal_data=True,
    documents=True,
    on_start=lambda app, pool: people.People(app, pool).finish_erasures(),
)

if __name__ == "__main__":
    run(DEFINITION)
