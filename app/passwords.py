"""Password hashing with Argon2id; the cost comes from the config (cheap only in tests)."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> tuple[bool, bool]:
    """(matches, needs rehash with the current parameters)."""
    try:
        hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, hasher().check_needs_rehash(password_hash)
