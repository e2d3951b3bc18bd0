"""The GraphQL schema, composed from one package per feature."""

from __future__ import annotations

import re

import strawberry
from strawberry.extensions import (AddValidationRules, DisableIntrospection, MaxAliasesLimiter, MaxTokensLimiter,
                                   ParserCache, QueryDepthLimiter, SchemaExtension, ValidationCache)
from strawberry.extensions.tracing import OpenTelemetryExtension

from services.gateway.schema.audit.queries import AuditQueries
from services.gateway.schema.candidacy import mutations as candidacy
from services.gateway.schema.candidacy.queries import CandidacyQueries
from services.gateway.schema.catalog import mutations as catalog
from services.gateway.schema.catalog.queries import CatalogQueries
from services.gateway.schema.dashboards.queries import DashboardQueries
from services.gateway.schema.deadlines.queries import DeadlineQueries
from services.gateway.schema.documents import mutations as documents
from services.gateway.schema.guards import Bounds, InputGuard, log_errors
from services.gateway.schema.inputs import SCALARS
from services.gateway.schema.jury import mutations as jury
from services.gateway.schema.jury.queries import JuryQueries
from services.gateway.schema.live.subscriptions import LiveSubscriptions
from services.gateway.schema.mutations import mutation_type


@strawberry.type
class Query(CatalogQueries, CandidacyQueries, JuryQueries, AuditQueries, DashboardQueries, DeadlineQueries):
    pass


# The mutation table: each command that GraphQL runs → its mutation, in the schema's order.
MUTATIONS = {**catalog.MUTATIONS, **candidacy.MUTATIONS, **jury.MUTATIONS, **documents.MUTATIONS}
Mutation = mutation_type("Mutation", MUTATIONS)


@strawberry.type
class Subscription(LiveSubscriptions):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Never strawberry's default: it logs the values the caller sent (personal data).
        log_errors(errors, execution_context)


# Clients send the same few documents again and again: parsing and validating them was a good part of
# the gateway's time per mutation, so both are cached (bounded: many distinct texts cannot grow them).
# The validation cache knows a document's rules by identity: the limits' rules are made once.
LIMITS = (*QueryDepthLimiter(max_depth=10).validation_rules,
          *MaxAliasesLimiter(max_alias_count=30).validation_rules)
CACHED_DOCUMENTS = 512


SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class NoSuggestions(SchemaExtension):
    """With introspection off, validation errors name no field or type the caller did not write: "Did you
    mean …" would hand out the schema a name at a time."""

    def on_validate(self):
        yield
        for error in self.execution_context.pre_execution_errors or []:
            error.message = SUGGESTION.sub("", error.message)


def build_schema(introspection: bool = True, traced: bool = False, bounds: Bounds | None = None) -> Schema:
    bounds = bounds or Bounds()
    extensions = [
        lambda: AddValidationRules(list(LIMITS)),
        lambda: MaxTokensLimiter(max_token_count=2000),
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        lambda: InputGuard(bounds),  # after the validation cache: it guards validated documents only
    ]
    if not introspection:
        extensions += [DisableIntrospection, NoSuggestions]
    if traced:
        extensions.append(OpenTelemetryExtension)
    return Schema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions,
                  scalar_overrides=SCALARS)


schema = build_schema()
