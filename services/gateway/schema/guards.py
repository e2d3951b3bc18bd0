"""What the gateway refuses before running a GraphQL operation, and what it never writes in its logs.

- Control characters in any text (variables or inline literals): an `InvalidInput` error.
- Operations that cost too much: each field counts 1, and what a list field selects counts as many
  times as the page size it asks for (`first`, from a literal or a variable, else the argument's
  default), or LIST_SIZE times for a list without one; a connection's `edges` are its page, counted
  once; aliases and fragments count as the fields they repeat. Depth, aliases and tokens
  are bounded by strawberry's own limiters beside this one.
- Logs: the values a caller sent (variables and inline literals) are masked in every error logged,
  as they may be a candidate's name, email, birth date or phone.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator

from graphql import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, GraphQLList, GraphQLNonNull,
    GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, InlineFragmentNode, IntValueNode, OperationDefinitionNode, SelectionSetNode,
    StringValueNode, VariableNode, get_named_type, visit, Visitor,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult

from shared.limits import control_character_paths

logger = logging.getLogger("graphql")

MAX_COST = 20_000
LIST_SIZE = 10
PAGE_ARGUMENTS = ("first", "last")


def refusal(message: str, code: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


class InputGuard(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            context.result = self.check(context)
        yield

    @staticmethod
    def check(context: ExecutionContext) -> ExecutionResult | None:
        variables = context.variables or {}
        paths = list(control_character_paths(variables))
        paths += [f"literal at line {line}" for line in _literals_with_control_characters(context.graphql_document)]
        if paths:
            return refusal("control characters are not allowed in text: " + ", ".join(paths), "InvalidInput")
        operation = _operation(context)
        if operation is not None:
            schema: GraphQLSchema = context.schema._schema
            fragments = {d.name.value: d for d in context.graphql_document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            root = schema.get_root_type(operation.operation)
            cost = Cost(schema, fragments, variables).of(operation.selection_set, root, frozenset())
            if cost > MAX_COST:
                return refusal(f"the operation costs {cost}, more than {MAX_COST}: ask for smaller pages or fewer "
                               "fields", "QueryTooCostly")
        return None


def _literals_with_control_characters(document) -> list[int]:
    lines: list[int] = []

    class Literals(Visitor):
        def enter_string_value(self, node: StringValueNode, *_):
            if any(control_character_paths(node.value)):
                lines.append(node.loc.source.get_location(node.loc.start).line if node.loc else 0)

    visit(document, Literals())
    return lines


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
        if definition is None:
            return 1  # __typename, or a field validation refuses anyway
        kind = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        page = self._page_size(field, definition)
        if paged and field.name.value == "edges":
            times = 1
        else:
            times = page or (LIST_SIZE if isinstance(kind, GraphQLList) else 1)
        return 1 + times * self.of(field.selection_set, get_named_type(definition.type), seen, paged=bool(page))

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
    for error in errors:
        original = error.original_error
        fields = {"graphql_message": mask(error.message, values), "path": error.path,
                  "code": (error.extensions or {}).get("code")}
        if original is not None and not isinstance(original, GraphQLError):
            fields["exception"] = mask("".join(traceback.format_exception(original)), values)
            logger.error("graphql resolver failed", extra={"fields": fields})
        else:
            logger.info("graphql request refused", extra={"fields": fields})
