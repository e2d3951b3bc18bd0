from __future__ import annotations

import strawberry

from services.gateway.schema.dashboards.types import StatusCount
from services.gateway.schema.vocabulary import CandidacyStatus


@strawberry.type(description="How many candidacies the caller may read, in all and by status (every status, zeros "
                             "included)")
class CandidacyCounters:
    total: int
    by_status: list[StatusCount]

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> CandidacyCounters:
        return cls(total=sum(counts.values()),
                   by_status=[StatusCount(status=s, count=counts.get(s.value, 0)) for s in CandidacyStatus])
