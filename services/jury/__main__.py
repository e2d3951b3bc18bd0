"""The jury process: python -m services.jury"""

from shared.contracts.candidacy import TOPIC as CANDIDACY_TOPIC
from shared.contracts.catalog import TOPIC as CATALOG_TOPIC
from shared.contracts.jury import TOPIC
from shared import personal
from shared.service import ServiceDefinition, run
from shared.settings import Settings

from services.jury import api, certificates, documents, evaluations, issuer, members, notices, status, views
from services.jury.application import JuryApplication
from services.jury.deadlines import engine as deadlines, timers

DEFINITION = ServiceDefinition(
    name="jury",
    application=JuryApplication,
    topic=TOPIC,
    commands=api.commands,
    views={CATALOG_TOPIC: views.apply_catalog, CANDIDACY_TOPIC: views.apply_candidacy},
    migrations=views.MIGRATIONS,
    tables=[*personal.MIGRATIONS, *issuer.MIGRATIONS, *timers.MIGRATIONS, *notices.MIGRATIONS],
    subscriptions=lambda app, pool: [*certificates.subscriptions(app, pool), *status.subscriptions(app, pool),
                                     *deadlines.subscriptions(app), *notices.subscriptions(app, pool)],
    loops=lambda app, pool, settings: [timers.Clock(app, pool, settings.deadlines_poll_seconds).run(),
                                       notices.sender(app, pool, settings).run()],
    queries=lambda app, pool, verifier: {**members.queries(members.Members(app, pool), verifier),
                                         **evaluations.queries(evaluations.Evaluations(app, pool), verifier),
                                         **documents.queries(app, pool, verifier),
                                         **issuer.queries(certificates.Issuing(app, pool, Settings()),
                                                        status.status_lists(app, pool))},
    personal_data=True,
    documents=True,
)

if __name__ == "__main__":
    run(DEFINITION)
