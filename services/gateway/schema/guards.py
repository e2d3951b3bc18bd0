"""What the gateway refuses before running a GraphQL operation, and what it never writes in its logs.

One guard for every operation, query, mutation or subscription, over HTTP and WebSocket alike: it runs once
the document is validated (`on_validate`), before anything is resolved, so a refused subscription never
starts and is never pushed.

- Control characters in any text, and values their scalar cannot read (a day that is not one, a malformed
  decimal: inputs.Unread), in variables, their defaults or inline literals: an `InvalidInput` error; in the
  arguments of a mutation (and the variables only they use), the mutation answers the typed `InvalidInput` member
  of its result union instead, its command model refusing them with their paths (forward.py).
- Operations that cost too much, counted twice. Before it runs, an estimate: each field counts 1, and what a
  list field selects counts as many times as the page size it asks for (`first`, from a literal or a variable,
  else the argument's default), or LIST_SIZE times for a list without one; a connection's `edges` are its page,
  counted once; aliases and fragments count as the fields they repeat; a field given `asOf` counts REPLAY_COST
  more (the gateway replays up to that many of its events, services/gateway/asof.py); `__schema`/`__type`
  INTROSPECTION_COST. As it runs, the real cost: each field resolved 1 (so a list costs what it holds), the past
  states as estimated; past the bound the operation stops (`QueryTooCostly`). Depth, aliases and tokens are
  bounded by strawberry's own limiters beside this one.
- Callers without a (valid) token have a smaller bound per operation (ANONYMOUS_MAX_COST: one replay at
  most), and each client address a budget refilled at a steady rate (`Budgets`): `TooManyRequests` beyond; what
  an operation turned out to cost beyond its estimate is taken from the budget after it ran.
- Answers: the text of an answer is counted as it is resolved; beyond `max_response_bytes` the operation
  stops and answers only `ResponseTooLarge` (each push of a subscription is counted on its own).
- The gateway's database out of reach under a query or a subscription: the error `ServiceUnavailable` in the
  gateway's words (UNAVAILABLE), never the driver's.
- Logs: the values a caller sent (variables and inline literals) are masked in every error logged,
  as they may be a candidate's name, email, birth date or phone.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import re
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import asyncpg
from graphql import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLEnumType, GraphQLError, GraphQLInputObjectType,
    GraphQLList, GraphQLNonNull, GraphQLInterfaceType, GraphQLObjectType, GraphQLScalarType, GraphQLSchema,
    InlineFragmentNode, IntValueNode, NullValueNode, OperationDefinitionNode, OperationType, SelectionSetNode,
    StringValueNode, TypeInfo, TypeInfoVisitor, VariableDefinitionNode, VariableNode, get_named_type, type_from_ast,
    validate, visit, Visitor,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from shared.errors import CommandRefused
from shared.limits import control_character_paths

from services.gateway.schema.inputs import Unread

logger = logging.getLogger("graphql")

MAX_COST = 20_000
ANONYMOUS_MAX_COST = 2_000  # a caller without a token: one replay at most, or a page of the catalog
REPLAY_COST = 1_000  # a field given `asOf`: at most this many events replayed (asof.MAX_EVENTS)
LIST_SIZE = 10
# `__schema` or `__type`: the schema described, counted so before it runs and not field by field as it runs (it
# reads no database, and its size is the schema's): one full introspection (GraphiQL's) for a caller without a token.
INTROSPECTION_COST = 1_000
PAGE_ARGUMENTS = ("first", "last")
PAST = "asOf"
TOO_LARGE = "ResponseTooLarge"


class Budgets:
    """What callers without a token may spend, per client address: `size` cost units, refilled at
    `per_second`, so that one address cannot keep the services replaying. Beyond `addresses` known, those
    whose budget is full again are forgotten (then the oldest)."""

    def __init__(self, size: int = 4_000, per_second: float = 500, addresses: int = 10_000, clock=time.monotonic):
        self.size, self.per_second, self.addresses, self.clock = size, per_second, addresses, clock
        self._left: dict[str, tuple[float, float]] = {}  # address → (units left, when counted)

    def take(self, address: str, cost: int) -> float:
        """0 once `cost` is taken from the address's budget; else the seconds until it could be."""
        now = self.clock()
        left, when = self._left.get(address, (self.size, now))
        left = min(self.size, left + (now - when) * self.per_second)
        if cost > left:
            self._left[address] = (left, now)
            return (cost - left) / self.per_second
        self._left[address] = (left - cost, now)
        if len(self._left) > self.addresses:
            for known, (units, at) in list(self._left.items()):
                if units + (now - at) * self.per_second >= self.size:
                    del self._left[known]
            while len(self._left) > self.addresses:
                del self._left[next(iter(self._left))]
        return 0.0

    def spend(self, address: str, cost: int) -> None:
        """`cost` taken from the address's budget whatever is left (it waits longer next time): what an operation
        turned out to cost beyond what was taken before it ran."""
        now = self.clock()
        left, when = self._left.get(address, (self.size, now))
        self._left[address] = (min(self.size, left + (now - when) * self.per_second) - cost, now)


@dataclass
class Bounds:
    """The guard's settings (from shared/settings.py in the gateway; these defaults elsewhere)."""

    max_response_bytes: int = 16_000_000
    anonymous: Budgets = field(default_factory=Budgets)


def refusal(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class InputGuard(SchemaExtension):
    """Listed after the validation cache: it sees a validated document, and refuses before execution."""

    def __init__(self, bounds: Bounds | None = None):
        super().__init__()
        self.bounds = bounds or Bounds()
        self.answered = 0  # characters of the answer resolved so far (of this push, for a subscription)
        self.most = MAX_COST  # what the caller may spend on one operation
        self.estimate = self.replays = 0  # its cost as counted before it runs; of that, its past states
        self.spent = 0  # its cost as it runs: each field resolved 1, each past state REPLAY_COST (of this push)
        self.address: str | None = None  # a caller without a token: its address, whose budget it spends
        self.stopped: GraphQLError | None = None  # once too costly or too large as it runs

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            context.pre_execution_errors = validate(context.schema._schema, context.graphql_document,
                                                    context.validation_rules)
        if context.graphql_document is not None and not context.pre_execution_errors:
            refused = await self.check(context)
            if refused is not None:
                context.pre_execution_errors = [refused]  # strawberry answers them and executes nothing
        yield

    async def check(self, context: ExecutionContext) -> GraphQLError | None:
        operation = _operation(context)
        if operation is None:
            return None
        variables = context.variables or {}
        fragments = {d.name.value: d for d in context.graphql_document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        schema: GraphQLSchema = context.schema._schema
        texts, unread = _bad_values(schema, context.graphql_document, operation, fragments, variables)
        if texts:
            return refusal("control characters are not allowed in text: " + ", ".join(texts), "InvalidInput")
        if unread:
            return refusal("values their type cannot read (a day that is not one, a malformed number): "
                           + ", ".join(unread), "InvalidInput")
        counted = Cost(schema, fragments, variables)
        cost = counted.of(operation.selection_set, schema.get_root_type(operation.operation), frozenset())
        anonymous, address = await _anonymous(context.context)
        budgets = self.bounds.anonymous
        self.most = min(ANONYMOUS_MAX_COST, budgets.size) if anonymous else MAX_COST
        if cost > self.most:
            return refusal(f"the operation costs {cost}, more than {self.most}{self._without()}: ask for smaller "
                           "pages, fewer fields or fewer past states (asOf)", "QueryTooCostly")
        if anonymous and address is not None and (wait := budgets.take(address, cost)):
            return refusal(f"requests without a token from your address have spent their budget ({budgets.size}, "
                           f"{budgets.per_second:g} more each second): try again in {math.ceil(wait)} s, or sign in",
                           "TooManyRequests")
        self.estimate, self.replays = cost, counted.replays * REPLAY_COST
        self.spent, self.address = self.replays, address if anonymous else None
        return None

    def _without(self) -> str:
        return " for a caller without a token (sign in for more)" if self.most < MAX_COST else ""

    # As it runs: every field resolved is counted, so a list longer than estimated costs what it holds; and the
    # answer's text. Past either bound, the operation stops.

    def resolve(self, _next, root, info, *args, **kwargs):
        if self.stopped is not None:
            raise self.stopped  # nothing more is resolved
        self.spent += not (info.field_name.startswith("__") or info.parent_type.name.startswith("__"))
        if self.spent > self.most:
            self._stop(f"the operation costs more than {self.most}{self._without()} as it runs (its lists hold more "
                       "than estimated): ask for fewer fields, smaller pages or fewer aliases", "QueryTooCostly")
        value = _next(root, info, *args, **kwargs)
        if not _leaf(info.return_type):
            return value
        if inspect.isawaitable(value):
            return self._counted_later(value)
        self._count(value)
        return value

    async def _counted_later(self, value):
        value = await value
        self._count(value)
        return value

    def _count(self, value) -> None:
        self.answered += _size(value)
        if self.answered > self.bounds.max_response_bytes:
            self._stop(f"the answer would be larger than {self.bounds.max_response_bytes} characters: ask for fewer "
                       "fields, smaller pages or fewer aliases", TOO_LARGE)
        if self.stopped is not None:
            raise self.stopped

    def _stop(self, message: str, code: str) -> None:
        if self.stopped is None:
            done = (" (what the mutation did is done: the same idempotency key answers it again)"
                    if self.execution_context.operation_type.value == "mutation" else "")
            self.stopped = refusal(message.replace(":", done + ":", 1), code)
        raise self.stopped

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if self.stopped is not None and result is not None:
            self._refuse(result)
        elif result is not None:
            _database_unavailable(result)
        if self.address is not None and self.spent > self.estimate:  # its lists held more: the rest is spent too
            self.bounds.anonymous.spend(self.address, self.spent - self.estimate)

    def on_stream_result(self, result) -> Iterator[None]:
        """Each push of a subscription: refused alone if too costly or too large, and the next one counted afresh."""
        if self.stopped is not None:
            self._refuse(result)
        else:
            _database_unavailable(result)
        self.answered, self.spent, self.stopped = 0, self.replays, None
        yield

    def _refuse(self, result) -> None:
        result.data = None
        result.errors = [self.stopped]


# The gateway's own database out of reach (refused, starting up, cut, out of connections): a query says so in
# its own words, never the driver's (a mutation does before sending anything: schema/context.py).
UNREACHABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
               asyncpg.TooManyConnectionsError, asyncpg.AdminShutdownError)
UNAVAILABLE = "the gateway's database is unavailable; try again shortly"


def _database_unavailable(result) -> None:
    if result.errors:
        result.errors = [GraphQLError(UNAVAILABLE, error.nodes, path=error.path,
                                      extensions={"code": "ServiceUnavailable"})
                         if isinstance(error.original_error, UNREACHABLE) else error for error in result.errors]


@functools.cache  # the schema's types: a few hundred
def _leaf(kind) -> bool:
    return isinstance(get_named_type(kind), GraphQLScalarType | GraphQLEnumType)


def _size(value) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return 2 + sum(_size(item) for item in value)
    return len(str(value)) if isinstance(value, dict) else 8


async def _anonymous(context) -> tuple[bool, str | None]:
    """Whether the caller comes without a valid token, and from which address."""
    request = getattr(context, "request", None)
    if request is None:
        return True, None  # run without a request (tests)
    address = request.client.host if request.client else None
    try:
        await context.verifier.verify(context.token())
    except CommandRefused:  # none, or one that does not verify: no one's budget but the address's
        return True, address
    return False, address


def _bad_values(schema: GraphQLSchema, document, operation: OperationDefinitionNode, fragments: dict,
                variables: dict) -> tuple[list[str], list[str]]:
    """Where the document and its variables hold texts with control characters, and values their scalar cannot
    read (inputs.Unread). Left out: a mutation's own arguments, and the variables (their defaults too) that only
    they use: the mutation answers those as its typed `InvalidInput`, with their paths (forward.py)."""
    mutation_arguments = ({id(a) for f in _root_fields(operation.selection_set, fragments) for a in f.arguments or ()}
                          if operation.operation == OperationType.MUTATION else set())
    outside, inside = set(), set()
    texts, unread = [], []  # (the variable whose default holds it, or None; where)
    types = TypeInfo(schema)

    class Values(Visitor):
        depth = 0  # > 0 within a mutation's own arguments
        default_of: str | None = None  # within this variable's default value

        def enter_argument(self, node, *_):
            self.depth += id(node) in mutation_arguments

        def leave_argument(self, node, *_):
            self.depth -= id(node) in mutation_arguments

        def enter_variable_definition(self, node: VariableDefinitionNode, *_):
            self.default_of = node.variable.name.value

        def leave_variable_definition(self, *_):
            self.default_of = None

        def enter_variable(self, node: VariableNode, _key, parent, *_):
            if not isinstance(parent, VariableDefinitionNode):
                (inside if self.depth else outside).add(node.name.value)

        def enter_string_value(self, node: StringValueNode, *_):
            if not self.depth and any(control_character_paths(node.value)):
                texts.append((self.default_of, _line(node)))
            self._read(node)

        def enter_int_value(self, node, *_):
            self._read(node)

        enter_float_value = enter_int_value

        def _read(self, node) -> None:
            scalar = get_named_type(types.get_input_type())
            if not self.depth and isinstance(scalar, GraphQLScalarType) and isinstance(scalar.parse_literal(node),
                                                                                       Unread):
                unread.append((self.default_of, _line(node)))

    visit(document, TypeInfoVisitor(types, Values()))
    only_inside = inside - outside
    kept = {k: v for k, v in variables.items() if k not in only_inside}
    declared = {d.variable.name.value: type_from_ast(schema, d.type) for d in operation.variable_definitions or ()}
    bad_texts = list(control_character_paths(kept)) + [w for v, w in texts if v not in only_inside]
    bad_reads = [path for name, value in kept.items() if declared.get(name) is not None
                 for path in _unread(value, declared[name], f"${name}")]
    return bad_texts, bad_reads + [w for v, w in unread if v not in only_inside]


def _line(node) -> str:
    return f"literal at line {node.loc.source.get_location(node.loc.start).line if node.loc else 0}"


def _unread(value, kind, path: str) -> Iterator[str]:
    """The paths in a variable's value of what its scalar cannot read, following its declared type."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if value is None:
        return
    if isinstance(kind, GraphQLList):
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            yield from _unread(item, kind.of_type, f"{path}.{index}")
    elif isinstance(kind, GraphQLInputObjectType) and isinstance(value, dict):
        for name, item in value.items():
            if name in kind.fields:
                yield from _unread(item, kind.fields[name].type, f"{path}.{name}")
    elif isinstance(kind, GraphQLScalarType):
        try:
            if isinstance(kind.parse_value(value), Unread):
                yield path
        except (GraphQLError, ValueError, TypeError):
            pass  # another kind of bad value: GraphQL refuses it itself


def _root_fields(selection_set: SelectionSetNode, fragments: dict, seen: frozenset[str] = frozenset()
                 ) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments \
                and selection.name.value not in seen:
            yield from _root_fields(fragments[selection.name.value].selection_set, fragments,
                                    seen | {selection.name.value})


def _operation(context: ExecutionContext) -> OperationDefinitionNode | None:
    operations = [d for d in context.graphql_document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        if context.operation_name is None or (operation.name and operation.name.value == context.operation_name):
            return operation
    return None


class Cost:
    def __init__(self, schema: GraphQLSchema, fragments: dict, variables: dict):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.replays = 0  # fields given `asOf` among those counted

    def of(self, selection_set: SelectionSetNode | None, parent, seen: frozenset[str], paged: bool = False) -> int:
        """`paged`: `parent` is a connection whose page size was counted already (its edges are that page)."""
        if selection_set is None or parent is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, seen, paged)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total += self.of(selection.selection_set,
                                 self.schema.get_type(condition.name.value) if condition else parent, seen, paged)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    total += self.of(fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value),
                                     seen | {selection.name.value}, paged)
            if total > MAX_COST:
                return total  # no need to count further
        return total

    def _field(self, field: FieldNode, parent, seen: frozenset[str], paged: bool = False) -> int:
        definition = parent.fields.get(field.name.value) if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else None
        if definition is None:  # __typename, introspection, or a field validation refuses anyway
            return INTROSPECTION_COST if field.name.value in ("__schema", "__type") else 1
        kind = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        page = self._page_size(field, definition)
        if paged and field.name.value == "edges":
            times = 1
        else:
            times = page or (LIST_SIZE if isinstance(kind, GraphQLList) else 1)
        replay = REPLAY_COST if self._past(field) else 0
        self.replays += bool(replay)
        return 1 + replay + times * self.of(field.selection_set, get_named_type(definition.type), seen, paged=bool(page))

    def _past(self, field: FieldNode) -> bool:
        """The field is asked as it stood at an instant (`asOf` given, not null)."""
        for argument in field.arguments or ():
            if argument.name.value == PAST:
                value = argument.value
                if isinstance(value, VariableNode):  # not sent: its default, perhaps an instant
                    return self.variables.get(value.name.value, PAST) is not None
                return not isinstance(value, NullValueNode)
        return False

    def _page_size(self, field: FieldNode, definition) -> int | None:
        """The page a field asks for: its `first` (a literal or a variable), else the argument's default."""
        for argument in field.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(1, int(value.value))
                if isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), int):
                    return max(1, self.variables[value.name.value])
        for name in PAGE_ARGUMENTS:
            default = definition.args[name].default_value if name in definition.args else None
            if isinstance(default, int):
                return max(1, default)
        return None


# Masking ---------------------------------------------------------------------------------------------

# graphql-core prints a refused value after these words; everything up to the next ';' is the value.
_VALUE_AFTER = re.compile(r"((?:got invalid value|found|value:|cannot represent[^:]*:)\s*)([^;]*)")


def _sent_values(context: ExecutionContext | None) -> set[str]:
    values: set[str] = set()

    def collect(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list | tuple):
            for item in value:
                collect(item)
        elif isinstance(value, str | int | float) and not isinstance(value, bool) and len(str(value)) >= 2:
            values.add(str(value))

    if context is not None:
        collect(context.variables or {})
        if context.graphql_document is not None:
            class Literals(Visitor):
                def enter_string_value(self, node, *_):
                    collect(node.value)

            visit(context.graphql_document, Literals())
    return values


def mask(text: str, values: set[str]) -> str:
    """`text` with every value the caller sent, and every value graphql-core prints, replaced by ***."""
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "***")
    return _VALUE_AFTER.sub(lambda m: m.group(1) + "***", text)


def log_errors(errors: list[GraphQLError], context: ExecutionContext | None) -> None:
    values = _sent_values(context)
    told_too_large = False  # every field resolved once the answer is too large is refused: logged once
    for error in errors:
        if (error.extensions or {}).get("code") == TOO_LARGE:
            if told_too_large:
                continue
            told_too_large = True
        original = error.original_error
        fields = {"graphql_message": mask(error.message, values), "path": error.path,
                  "code": (error.extensions or {}).get("code")}
        if original is not None and not isinstance(original, GraphQLError):
            fields["exception"] = mask("".join(traceback.format_exception(original)), values)
            logger.error("graphql resolver failed", extra={"fields": fields})
        else:
            logger.info("graphql request refused", extra={"fields": fields})
