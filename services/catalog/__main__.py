"""The catalog process: python -m services.catalog"""

from shared.contracts.catalog import TOPIC
from shared.service import ServiceDefinition, run

from services.catalog import api
from services.catalog.application import CatalogApplication

DEFINITION = ServiceDefinition(
    name="catalog",
    application=CatalogApplication,
    topic=TOPIC,
    commands=api.commands,
)

if __name__ == "__main__":
    run(DEFINITION)
