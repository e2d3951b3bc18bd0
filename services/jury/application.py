"""Jury commands (the evaluation and decision commands arrive with the jury issue)."""

from shared.eventstore import ServiceApplication


class JuryApplication(ServiceApplication):
    name = "jury"
