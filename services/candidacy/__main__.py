"""The candidacy process: python -m services.candidacy"""

from shared.contracts.candidacy import TOPIC
from shared.contracts.catalog import TOPIC as CATALOG_TOPIC
from shared.contracts.jury import TOPIC as JURY_TOPIC
from shared.service import ServiceDefinition, Subscription, run

from services.candidacy import api, catalog_view, jury_events
from services.candidacy.application import CandidacyApplication

DEFINITION = ServiceDefinition(
    name="candidacy",
    application=CandidacyApplication,
    topic=TOPIC,
    commands=api.commands,
    views={CATALOG_TOPIC: catalog_view.apply_catalog, JURY_TOPIC: catalog_view.apply_jury},
    migrations=catalog_view.MIGRATIONS,
    subscriptions=lambda app, pool: [Subscription(JURY_TOPIC, jury_events.handler(app))],
    encrypted=True,
)

if __name__ == "__main__":
    run(DEFINITION)
