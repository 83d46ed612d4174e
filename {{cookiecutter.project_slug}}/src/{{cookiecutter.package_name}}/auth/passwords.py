"""argon2id password hashing, run in a worker thread so the event loop never blocks."""

import asyncio
import secrets
from collections.abc import Callable
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.concurrency import run_in_threadpool

from {{ cookiecutter.package_name }}.settings import Settings

T = TypeVar("T")


class PasswordHasher:
    """Hashes and verifies passwords with the parameters in settings.

    argon2 releases the GIL, so hashing in the thread pool runs in parallel with requests.
    At most `PASSWORD_HASH_CONCURRENCY` hashes run at once and the others queue in order:
    more than the CPUs would only add memory (each holds `PASSWORD_HASH_MEMORY_KIB`) and
    make every hash slower.
    """

    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_kib,
                    parallelism=settings.password_hash_parallelism,
                ),
            )
        )
        # Verified against when the account does not exist, so both paths cost one hash.
        self._decoy = self._hash.hash(secrets.token_urlsafe(16))
        self._turns = asyncio.Semaphore(settings.password_hash_concurrency)

    async def _in_turn(self, work: Callable[..., T], *args: str) -> T:
        async with self._turns:
            return await run_in_threadpool(work, *args)

    async def hash(self, password: str) -> str:
        """A new salted hash of `password`."""
        return await self._in_turn(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches, and a replacement hash when the parameters changed.

        With no stored hash (unknown account) the decoy is verified, so timing does not tell.
        """
        if password_hash is None:
            await self._in_turn(self._hash.verify, password, self._decoy)
            return False, None
        return await self._in_turn(self._hash.verify_and_update, password, password_hash)
