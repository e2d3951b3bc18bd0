"""What the gateway's projections share: how a list of contract values is stored as jsonb."""

from __future__ import annotations

import json

from pydantic import BaseModel


def jsonb(values: list[BaseModel]) -> str:
    return json.dumps([v.model_dump(mode="json") for v in values])
