"""Unit tests decide commands as a caller with every role over the test branches, unless a test sets
another (shared.context.current_caller, as the command endpoint does)."""

import pytest

from shared.context import Actor, CommandContext, current_caller, current_command
from shared.identity import Caller, Role

EVERY_RIGHT = Caller(user_id="tester", organisation_id="platform", branches=("LEEM", "NOPE", "UIMM", "UIT"),
                     roles=frozenset(Role) - {Role.CANDIDATE, Role.AUDITOR})


@pytest.fixture(autouse=True)
def caller():
    token = current_caller.set(EVERY_RIGHT)
    yield EVERY_RIGHT
    current_caller.reset(token)


@pytest.fixture(autouse=True)
def event_context():
    """Domain objects made straight in a test record this context, as a command's would."""
    token = current_command.set(CommandContext(
        actor=Actor(user_id="tester", organisation_id="platform", role="platform-admin"),
        correlation_id="c", causation_id="k"))
    yield
    current_command.reset(token)
