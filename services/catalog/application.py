"""Catalog commands: get, decide, save (through the idempotent ServiceApplication.execute)."""

from __future__ import annotations

from shared.context import CommandContext
from shared.eventstore import CommandOutcome, ServiceApplication

from services.catalog.domain import Certification, CertificationAlreadyExists


class CatalogApplication(ServiceApplication):
    name = "catalog"

    def create_certification(self, command: dict, context: CommandContext) -> CommandOutcome:
        def decide():
            if Certification.create_id(command["code"]) in self.repository:
                raise CertificationAlreadyExists("a certification with this code exists", code=command["code"])
            certification = Certification.create(**command, context=context.as_event_data())
            return [certification], {"id": str(certification.id), "code": certification.code}

        return self.execute("create-certification", command, context, decide)
