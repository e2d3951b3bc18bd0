"""The jury process: python -m services.jury"""

from shared.contracts.jury import TOPIC
from shared.service import ServiceDefinition, run

from services.jury.application import JuryApplication

DEFINITION = ServiceDefinition(
    name="jury",
    application=JuryApplication,
    topic=TOPIC,
    commands=lambda app, pool: {},
)

if __name__ == "__main__":
    run(DEFINITION)
