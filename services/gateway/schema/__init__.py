"""The GraphQL schema, composed from one package per feature."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxTokensLimiter, QueryDepthLimiter

from services.gateway.schema.candidates.mutations import CandidateMutations
from services.gateway.schema.candidates.queries import CandidateQueries
from services.gateway.schema.catalog.mutations import CatalogMutations
from services.gateway.schema.catalog.queries import CatalogQueries


@strawberry.type
class Query(CatalogQueries, CandidateQueries):
    pass


@strawberry.type
class Mutation(CatalogMutations, CandidateMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[lambda: QueryDepthLimiter(max_depth=10), lambda: MaxTokensLimiter(max_token_count=2000)],
)
