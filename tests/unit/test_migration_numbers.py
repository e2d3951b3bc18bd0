"""Every process's migrations are numbered 1, 2, 3… per feature, in order."""

import pytest

from shared.migrations import Migration, check_numbering
from tools import store

from services.gateway import readmodels


def lists() -> dict[str, list[Migration]]:
    found = {"gateway": readmodels.MIGRATIONS}
    for service in store.SERVICES:
        spec = store.definition(service)
        found[service] = [*spec.migrations, *spec.tables]
    return found


@pytest.mark.parametrize("process", sorted(lists()))
def test_each_process_s_migrations_are_numbered_in_order_per_feature(process):
    check_numbering(lists()[process])


def test_a_gap_in_the_numbers_is_caught():
    with pytest.raises(ValueError, match="migration 3 where 2 was expected"):
        check_numbering([Migration("f", 1, ""), Migration("f", 3, "")])
