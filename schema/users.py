"""Who is calling: `viewer`, an addition to the contract for clients that show it."""

import strawberry

from schema.context import Info
from services import users


@strawberry.type(name="User", description="A person (or program) that owns assets.")
class User:
    id: strawberry.ID
    name: str


@strawberry.type
class UserQueries:
    @strawberry.field(
        description="The user this request acts as: the owner of the Bearer token with "
        "TROVE_AUTH=token, the built-in user `local` when authentication is off."
    )
    async def viewer(self, info: Info) -> User:
        found = users.viewer(user=info.context.user)
        return User(id=strawberry.ID(str(found.id)), name=found.name)
