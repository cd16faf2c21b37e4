from uuid import UUID

from uuid_utils.compat import uuid7


def new_id() -> UUID:
    """A UUIDv7: ids sort in creation order, so newest-first paging can use the primary key."""
    return uuid7()
