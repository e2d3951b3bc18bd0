"""Who may read what: catalog data is public (open data); people's data needs a bearer token."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from shared.errors import Unauthenticated


class Authenticated(BasePermission):
    message = "a valid bearer token is required (Authorization: Bearer <token>)"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        try:
            info.context.actor()
        except Unauthenticated as refusal:
            self.message = refusal.message
            return False
        return True
