"""Asset tags: normalisation and the tag rows that make "tagged A and B" an index range.

A tag is trimmed, 1 to 64 characters, keeps the case it was first given in, and compares
case-insensitively (its `key` is the case-folded form). The asset row keeps a sorted display
copy (`Asset.tags`) so reading an asset never needs the tag table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count, Min

from models import Asset, AssetTag
from services.errors import InvalidInput

MAX_TAG_LENGTH = 64
MAX_TAGS_PER_ASSET = 100


def tag_key(tag: str) -> str:
    return tag.casefold()


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Trimmed, validated, de-duplicated case-insensitively (first spelling wins), sorted."""
    chosen: dict[str, str] = {}
    for value in raw:
        if not isinstance(value, str):
            raise InvalidInput("Tags must be strings")
        tag = value.strip()
        if not 1 <= len(tag) <= MAX_TAG_LENGTH:
            raise InvalidInput(f"A tag must be 1 to {MAX_TAG_LENGTH} characters, got '{value}'")
        if any(ord(c) < 32 for c in tag):
            raise InvalidInput(f"A tag cannot contain control characters: '{value}'")
        chosen.setdefault(tag_key(tag), tag)
    return sort_tags(chosen.values())


def sort_tags(tags: Iterable[str]) -> list[str]:
    return sorted(tags, key=lambda tag: (tag_key(tag), tag))


@dataclass(frozen=True)
class TagCount:
    tag: str
    count: int


async def replace_tags(
    conn: BaseDBAsyncClient, *, asset: Asset, tags: Sequence[str] | None
) -> None:
    """Make the asset carry exactly `tags` (already normalised); saves the display copy."""
    wanted = list(tags or [])
    if len(wanted) > MAX_TAGS_PER_ASSET:
        raise InvalidInput(f"An asset carries at most {MAX_TAGS_PER_ASSET} tags")
    await AssetTag.filter(asset_id=asset.id).using_db(conn).delete()
    if wanted:
        await AssetTag.bulk_create(
            [
                AssetTag(owner_id=asset.owner_id, asset_id=asset.id, tag=t, key=tag_key(t))  # type: ignore[attr-defined]
                for t in wanted
            ],
            using_db=conn,
        )
    asset.tags = wanted or None


async def change_tags(
    conn: BaseDBAsyncClient,
    *,
    owner_id: UUID,
    asset_ids: Sequence[UUID],
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> int:
    """Add or remove tags on the given assets; returns how many assets changed."""
    remove_keys = {tag_key(t) for t in remove}
    rows = (
        await Asset.filter(owner_id=owner_id, id__in=list(asset_ids))
        .using_db(conn)
        .only("id", "tags")
    )
    changed = 0
    new_rows: list[AssetTag] = []
    for row in rows:
        current = list(row.tags or [])
        keys = {tag_key(t) for t in current}
        kept = [t for t in current if tag_key(t) not in remove_keys]
        added = [t for t in add if tag_key(t) not in keys]
        if len(kept) == len(current) and not added:
            continue
        if len(kept) + len(added) > MAX_TAGS_PER_ASSET:
            raise InvalidInput(f"An asset carries at most {MAX_TAGS_PER_ASSET} tags")
        changed += 1
        new_rows.extend(
            AssetTag(owner_id=owner_id, asset_id=row.id, tag=t, key=tag_key(t)) for t in added
        )
        tags = sort_tags([*kept, *added])
        await Asset.filter(id=row.id).using_db(conn).update(tags=tags or None)
    if remove_keys:
        await (
            AssetTag.filter(
                owner_id=owner_id, asset_id__in=list(asset_ids), key__in=sorted(remove_keys)
            )
            .using_db(conn)
            .delete()
        )
    if new_rows:
        await AssetTag.bulk_create(new_rows, using_db=conn)
    return changed


async def tag_counts(*, owner_id: UUID, prefix: str | None, first: int) -> list[TagCount]:
    if not 0 <= first <= 1000:
        raise InvalidInput("`first` must be between 0 and 1000")
    query = AssetTag.filter(owner_id=owner_id)
    if prefix and prefix.strip():
        query = query.filter(key__startswith=tag_key(prefix.strip()))
    rows = (
        await query.annotate(count=Count("id"), tag_shown=Min("tag"))
        .group_by("key")
        .order_by("-count", "key")
        .limit(first)
        .values("key", "count", "tag_shown")
    )
    return [TagCount(tag=row["tag_shown"], count=int(row["count"])) for row in rows]
