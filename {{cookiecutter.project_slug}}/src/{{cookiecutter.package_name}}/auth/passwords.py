"""argon2id password hashing, run in a worker thread so the event loop never blocks."""

import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.concurrency import run_in_threadpool

from {{ cookiecutter.package_name }}.settings import Settings


class PasswordHasher:
    """Hashes and verifies passwords with the parameters in settings.

    argon2 releases the GIL, so hashing in the thread pool runs in parallel with requests.
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

    async def hash(self, password: str) -> str:
        """A new salted hash of `password`."""
        return await run_in_threadpool(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches, and a replacement hash when the parameters changed.

        With no stored hash (unknown account) the decoy is verified, so timing does not tell.
        """
        if password_hash is None:
            await run_in_threadpool(self._hash.verify, password, self._decoy)
            return False, None
        return await run_in_threadpool(self._hash.verify_and_update, password, password_hash)
