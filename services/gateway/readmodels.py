"""Read models of the gateway, in its own schema, built only from the event topics: one projection module
per feature, beside its GraphQL package (`services/gateway/schema/<feature>/projection.py`), each with its
tables' numbered migrations and its event handlers; here they are put together. Each event is applied
by every feature that handles its topic, in one transaction (the audit log first).

No personal data is kept here: a candidate is their id, status, employer and account. Their names,
contact, birth date and civil registry data travel sealed with their own key (shared/personal.py), which
only the candidacy service holds; the gateway asks it for the fields it shows, with the caller's token
(shared/people.py). Erasing a person therefore leaves nothing here to forget, and a rebuild
from the topics brings nothing back.
"""

from __future__ import annotations

from shared.inbox import Handler, chain
from shared.migrations import Migration
from shared.topics import EVENT_TOPICS

from services.gateway.schema.audit import projection as audit
from services.gateway.schema.candidacy import projection as candidacies
from services.gateway.schema.catalog import projection as catalog
from services.gateway.schema.deadlines import projection as deadlines
from services.gateway.schema.documents import projection as documents
from services.gateway.schema.jury import projection as jury

SCHEMA = "gateway"

FEATURES = [audit, catalog, candidacies, jury, documents, deadlines]

MIGRATIONS: list[Migration] = [m for feature in FEATURES for m in feature.MIGRATIONS]

PROJECTIONS: dict[str, Handler] = {
    topic: chain([f.HANDLERS[topic] for f in FEATURES if topic in f.HANDLERS]) for topic in EVENT_TOPICS
}
