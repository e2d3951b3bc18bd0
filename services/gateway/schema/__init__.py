"""The GraphQL schema, composed from one package per feature."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxTokensLimiter, QueryDepthLimiter

from services.gateway.schema.candidacy.mutations import CandidacyMutations
from services.gateway.schema.candidacy.queries import CandidacyQueries
from services.gateway.schema.catalog.mutations import CatalogMutations
from services.gateway.schema.catalog.queries import CatalogQueries
from services.gateway.schema.jury.mutations import JuryMutations
from services.gateway.schema.jury.queries import JuryQueries


@strawberry.type
class Query(CatalogQueries, CandidacyQueries, JuryQueries):
    pass


@strawberry.type
class Mutation(CatalogMutations, CandidacyMutations, JuryMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[lambda: QueryDepthLimiter(max_depth=10), lambda: MaxTokensLimiter(max_token_count=2000)],
)
