"""Unit tests decide commands as a caller with every role over the test branches, unless a test sets
another (shared.context.current_caller, as the command endpoint does)."""

import pytest

from shared.context import current_caller
from shared.identity import Caller, Role

EVERY_RIGHT = Caller(user_id="tester", organisation_id="platform", branches=("LEEM", "NOPE", "UIMM", "UIT"),
                     roles=frozenset(Role) - {Role.CANDIDATE, Role.AUDITOR})


@pytest.fixture(autouse=True)
def caller():
    token = current_caller.set(EVERY_RIGHT)
    yield EVERY_RIGHT
    current_caller.reset(token)
