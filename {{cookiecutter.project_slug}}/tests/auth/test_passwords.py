"""Password hashing: argon2id, rehash on parameter change, the same cost for unknown users."""

import asyncio
import threading
import time

import pytest

from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.fixture
def hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(settings)


async def test_hashes_are_salted_argon2id(hasher: PasswordHasher) -> None:
    first, second = await hasher.hash("pw-1234567890"), await hasher.hash("pw-1234567890")

    assert first.startswith("$argon2id$")
    assert first != second
    assert await hasher.verify("pw-1234567890", first) == (True, None)
    assert await hasher.verify("wrong-password", first) == (False, None)


async def test_a_hash_with_old_parameters_is_replaced_on_verify(
    hasher: PasswordHasher, settings: Settings
) -> None:
    stronger = PasswordHasher(settings.model_copy(update={"password_hash_time_cost": 2}))
    old_hash = await hasher.hash("pw-1234567890")

    valid, new_hash = await stronger.verify("pw-1234567890", old_hash)

    assert valid
    assert new_hash is not None
    assert "t=2" in new_hash


async def test_an_unknown_account_still_costs_one_verification(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = hasher._hash.verify

    def counting_verify(password: str, password_hash: str) -> bool:
        calls.append(password_hash)
        return original(password, password_hash)

    monkeypatch.setattr(hasher._hash, "verify", counting_verify)

    assert await hasher.verify("anything", None) == (False, None)

    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$")


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_no_more_hashes_run_at_once_than_allowed_and_the_rest_wait(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    hasher = PasswordHasher(settings.model_copy(update={"password_hash_concurrency": concurrency}))
    running, most = 0, 0
    lock = threading.Lock()
    original = hasher._hash.hash

    def tracking_hash(password: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)  # long enough for the others to start, were they allowed to
        with lock:
            running -= 1
        return original(password)

    monkeypatch.setattr(hasher._hash, "hash", tracking_hash)

    hashes = await asyncio.gather(*(hasher.hash(f"pw-{n:012}") for n in range(4)))

    assert most == concurrency
    assert len(set(hashes)) == 4


def test_production_parameters_are_owasps() -> None:
    defaults = Settings(_env_file=None)

    assert (defaults.password_hash_memory_kib, defaults.password_hash_time_cost) == (19_456, 2)
    assert defaults.password_hash_parallelism == 1
