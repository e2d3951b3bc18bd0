"""The catalog process: python -m services.catalog"""

from shared.contracts.catalog import TOPIC
from shared.service import ServiceDefinition, run

from services.catalog import api
from services.catalog.application import CatalogApplication
from services.catalog.contracts import to_contract

DEFINITION = ServiceDefinition(
    name="catalog",
    application=CatalogApplication,
    topic=TOPIC,
    to_contract=to_contract,
    commands=api.commands,
)

if __name__ == "__main__":
    run(DEFINITION)
