"""Applications driven as a client drives them: each command written as the JSON a client sends, and
validated by its model (shared/commands/) before the typed application method gets it; a command context
given last is the one the command runs under (shared.context.current_command, as the endpoint sets it)."""

from __future__ import annotations

import inspect

from shared.commands import Command
from shared.context import CommandContext, acting


def _models() -> dict[str, type[Command]]:
    import shared.commands.catalog  # noqa: F401  (ImportFiche among them, a command no test imports by name)

    found, todo = {}, [Command]
    while todo:
        for sub in todo.pop().__subclasses__():
            found[sub.__name__] = sub
            todo.append(sub)
    return found


class AsClient:
    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):
        attribute = getattr(self.app, name)
        parameter = inspect.signature(attribute).parameters.get("command") if callable(attribute) else None
        model = _models().get(str(parameter.annotation)) if parameter else None
        if model is None:
            return attribute

        def call(command, *args, **kwargs):
            command = model.model_validate(command) if isinstance(command, dict) else command
            if not (args and isinstance(args[-1], CommandContext)):
                return attribute(command, *args, **kwargs)
            with acting(args[-1]):
                return attribute(command, *args[:-1], **kwargs)

        return call
