"""Who may read what: catalog data is public (open data); people's data needs a bearer token."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from shared.errors import CommandRefused

from services.gateway.schema.context import Context


class Authenticated(BasePermission):
    message = "a valid bearer token is required (Authorization: Bearer <token>)"

    async def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        try:
            await info.context.caller()
        except CommandRefused as refusal:
            self.message = refusal.message
            return False
        return True
