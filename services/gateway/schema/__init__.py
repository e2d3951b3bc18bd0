"""The GraphQL schema, composed from one package per feature."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxTokensLimiter, QueryDepthLimiter

from services.gateway.schema.candidates.mutations import CandidateMutations
from services.gateway.schema.candidates.queries import CandidateQueries
from services.gateway.schema.certifications.mutations import CertificationMutations
from services.gateway.schema.certifications.queries import CertificationQueries


@strawberry.type
class Query(CertificationQueries, CandidateQueries):
    pass


@strawberry.type
class Mutation(CertificationMutations, CandidateMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[lambda: QueryDepthLimiter(max_depth=10), lambda: MaxTokensLimiter(max_token_count=2000)],
)
