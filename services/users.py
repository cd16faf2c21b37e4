import hashlib
import secrets

from models import ApiToken, User
from services.errors import InvalidInput, Unauthenticated

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


async def authenticate(*, token: str) -> User:
    row = await ApiToken.filter(token_hash=_digest(token)).select_related("user").first()
    if row is None:
        raise Unauthenticated("Invalid or revoked API token")
    return row.user
