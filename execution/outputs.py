"""Node values as JSON: how job outputs are stored and what data.ToJSON writes."""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from execution.autosave import find_refs
from execution.refs import AssetRef
from models import User
from services.runtime import Services

MAX_DEPTH = 64


def ref_json(ref: AssetRef) -> dict[str, Any]:
    return {"type": ref.kind, "id": ref.asset_id, "contentType": ref.content_type}


def to_json(value: Any, asset: Callable[[AssetRef], Any] = ref_json, *, _depth: int = 0) -> Any:
    """A JSON-compatible copy: references through `asset`, models and dataclasses as objects."""
    if _depth > MAX_DEPTH:
        raise ValueError("the value is nested too deeply to store as JSON")
    depth = _depth + 1
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, AssetRef):
        return asset(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, BaseModel):
        return {
            name: to_json(getattr(value, name), asset, _depth=depth)
            for name in type(value).model_fields
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name), asset, _depth=depth)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): to_json(v, asset, _depth=depth) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v, asset, _depth=depth) for v in value]
    if isinstance(value, UUID):
        return str(value)
    return str(value)


async def render_outputs(values: dict[str, Any], *, services: Services, owner: User) -> Any:
    """Job outputs as stored: each asset as {type, id, contentType}, never a link.

    Links are made when the outputs are read (schema/jobs.py), for the reader's own assets
    only: a stored link would outlive its signature, and a graph may name any id. The
    content type of the owner's assets is taken from their rows.
    """
    ids: list[UUID] = []
    for _, ref in find_refs(values):
        if ref.asset_id is None:
            continue
        try:
            ids.append(UUID(ref.asset_id))
        except ValueError:
            continue
    rows = await services.assets.get_many(owner_id=owner.id, ids=ids) if ids else {}
    by_id = {str(key): row for key, row in rows.items()}

    def asset(ref: AssetRef) -> dict[str, Any]:
        row = by_id.get(ref.asset_id or "")
        if row is None:
            rendered = ref_json(ref)
            if ref.asset_id is None and ref.data is not None:
                rendered["size"] = len(ref.data)
            return rendered
        return {"type": ref.kind, "id": str(row.id), "contentType": row.content_type}

    return to_json(values, asset)
