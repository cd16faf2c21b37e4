import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from models import ApiToken, User
from services.errors import InvalidInput, NotFound, Unauthenticated

LOCAL_USER_NAME = "local"
TOKEN_PREFIX = "trove_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def get_or_create_user(*, name: str) -> User:
    name = name.strip()
    if not name or len(name) > 150:
        raise InvalidInput("A user name is 1 to 150 characters")
    user, _ = await User.get_or_create(name=name)
    return user


async def create_token(*, user: User) -> str:
    """A new random API token for `user`; only its hash is stored, so show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(user=user, token_hash=_digest(token))
    return token


@dataclass(frozen=True)
class Viewer:
    """Who a request acts as: the token's owner, or the local user when auth is off."""

    id: UUID
    name: str


def viewer(*, user: User) -> Viewer:
    # The request's user is already authenticated (server/auth.py); this only says who it is,
    # never anything about their tokens.
    return Viewer(id=user.id, name=user.name)


async def authenticate(*, token: str) -> User:
    row = await ApiToken.filter(token_hash=_digest(token)).select_related("user").first()
    if row is None:
        raise Unauthenticated("Invalid or revoked API token")
    return row.user


@dataclass(frozen=True)
class TokenInfo:
    id: UUID
    user_name: str
    created_at: datetime
    # The start of the token's SHA-256: tells tokens apart without revealing any of them.
    fingerprint: str


async def list_tokens(*, user_name: str | None = None) -> list[TokenInfo]:
    query = ApiToken.all().select_related("user").order_by("created_at")
    if user_name is not None:
        query = query.filter(user__name=user_name.strip())
    return [
        TokenInfo(
            id=row.id,
            user_name=row.user.name,
            created_at=row.created_at,
            fingerprint=row.token_hash[:12],
        )
        for row in await query
    ]


async def revoke_token(*, token_or_id: str) -> TokenInfo:
    """Delete one token, named by its id, a unique start of its id, or the token itself."""
    value = token_or_id.strip()
    if value.startswith(TOKEN_PREFIX):
        rows = await ApiToken.filter(token_hash=_digest(value)).select_related("user")
    else:
        rows = [
            row
            for row in await ApiToken.all().select_related("user")
            if len(value) >= 4 and str(row.id).startswith(value.lower())
        ]
    if not rows:
        raise NotFound(f"No token matches '{value}' (see `trove token list`)")
    if len(rows) > 1:
        raise InvalidInput(f"'{value}' matches {len(rows)} tokens; give more of the id")
    row = rows[0]
    await row.delete()
    return TokenInfo(
        id=row.id,
        user_name=row.user.name,
        created_at=row.created_at,
        fingerprint=row.token_hash[:12],
    )
