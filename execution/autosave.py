"""Auto-save: store every unsaved asset reference a node produced, through the same service
function an upload goes through, and point the reference at the stored asset."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from execution.context import ProcessingContext
from execution.refs import AssetRef
from services import content_types
from storage.base import SNIFF_BYTES

GENERIC_DETECTIONS = frozenset({"text/plain", "application/octet-stream"})
MAX_DEPTH = 32


def find_refs(value: Any, path: str = "") -> Iterator[tuple[str, AssetRef]]:
    """Every asset reference inside a value, with a path naming where it sits.

    Looks through mappings, lists, tuples, sets, pydantic models and dataclasses; each
    reference object is reported once even when it appears in several places.
    """
    seen: set[int] = set()
    yield from _walk(value, path, seen, 0)


def _walk(value: Any, path: str, seen: set[int], depth: int) -> Iterator[tuple[str, AssetRef]]:
    if depth > MAX_DEPTH or isinstance(value, str | bytes | int | float | bool | None):
        return
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, AssetRef):
        yield path, value
        return
    children: Iterator[tuple[Any, Any]]
    if isinstance(value, BaseModel):
        children = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    elif isinstance(value, Mapping):
        children = iter(value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        children = enumerate(value)
    else:
        return
    for key, child in children:
        yield from _walk(child, f"{path}-{key}" if path else str(key), seen, depth + 1)


def consumed_asset_ids(values: Any) -> list[UUID]:
    """Ids of the stored assets among a node's inputs: the sources of what it produces."""
    ids: list[UUID] = []
    for _, ref in find_refs(values):
        if ref.asset_id is None:
            continue
        try:
            parsed = UUID(ref.asset_id)
        except ValueError:
            continue
        if parsed not in ids:
            ids.append(parsed)
    return ids


def content_type_of(ref: AssetRef, data: bytes) -> str:
    """What the bytes are; the reference's own claim or kind only refines a generic answer."""
    detected = content_types.detect(data[:SNIFF_BYTES])
    hint = ref.content_type or ref.default_content_type
    if detected == content_types.ZIP:
        # An Office file whose parts lie beyond the sniffed bytes: the node's claim decides.
        return content_types.refine(detected, _claim(hint))
    if detected not in GENERIC_DETECTIONS:
        return detected
    if hint is None:
        return detected
    try:
        claimed = content_types.normalize_claim(hint)
    except ValueError:
        return detected
    if claimed is None:
        return detected
    if data and detected == "application/octet-stream" and claimed.startswith("text/"):
        return detected  # binary bytes are not text whatever the reference says
    if claimed == "application/json" and not _is_json(data):
        return detected
    return claimed


def _claim(hint: str | None) -> str | None:
    try:
        return content_types.normalize_claim(hint)
    except ValueError:
        return None


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def asset_name(title: str, output_path: str, node_id: str, content_type: str) -> str:
    """`Create_Image_output_red.png`: no spaces, so the name works unquoted in a shell."""
    stem = "_".join(f"{title}_{output_path}_{node_id[:8]}".split())
    return stem + content_types.extension_for(content_type)


class AutoSaveError(Exception):
    def __init__(self, output: str, reason: str) -> None:
        super().__init__(f"could not save its output '{output}': {reason}")
        self.output = output


async def save_outputs(
    context: ProcessingContext,
    *,
    outputs: Mapping[str, Any],
    node_id: str,
    title: str,
    derived_from: Sequence[UUID],
    index: int | None = None,
) -> list[str]:
    """Store the unsaved references among `outputs`; returns the new asset ids.

    `index` numbers the emissions of a streaming node so their names stay distinct.
    """
    saved: list[str] = []
    for output, value in outputs.items():
        base = output if index is None else f"{output}-{index}"
        for path, ref in find_refs(value, base):
            if ref.asset_id is not None:
                continue
            if ref.data is None:
                raise AutoSaveError(path, "the reference has neither data nor an asset id")
            content_type = content_type_of(ref, ref.data)
            try:
                asset = await context.create_asset(
                    asset_name(title, path, node_id, content_type),
                    content_type,
                    ref.data,
                    node_id=node_id,
                    metadata=ref.metadata,
                    derived_from=derived_from,
                    expires_at=context.auto_save_expiry(),
                )
            except Exception as error:
                reason = getattr(error, "message", None) or str(error) or type(error).__name__
                raise AutoSaveError(path, reason) from error
            ref.asset_id = str(asset.id)
            ref.content_type = asset.content_type
            saved.append(ref.asset_id)
    return saved
