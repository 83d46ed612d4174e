"""SQLite's reads run on threads of their own, in their caller's context, and a read whose
caller has gone before it started is not run."""

import asyncio
import contextvars
import threading

import pytest

from {{ cookiecutter.package_name }}.core.db import ReaderThreads

CALLER = contextvars.ContextVar[str]("CALLER")


async def test_a_read_runs_on_a_reader_thread_in_the_callers_context() -> None:
    threads = ReaderThreads(2, "database-read")
    CALLER.set("request 1")

    def where(suffix: str) -> str:
        return f"{threading.current_thread().name} {CALLER.get()}{suffix}"

    try:
        assert await threads.run(where, "!") in {
            "database-read_0 request 1!",
            "database-read_1 request 1!",
        }
    finally:
        threads.stop()


async def test_reads_run_at_once_on_as_many_threads_as_asked() -> None:
    threads = ReaderThreads(2, "database-read")
    both_running = threading.Barrier(2, timeout=5)
    try:
        arrivals = await asyncio.gather(
            threads.run(lambda _: both_running.wait(), None),
            threads.run(lambda _: both_running.wait(), None),
        )
        assert sorted(arrivals) == [0, 1]
    finally:
        threads.stop()


@pytest.mark.parametrize("error", [LookupError("no such row"), SystemExit(3)])
async def test_a_reads_error_reaches_its_caller_and_its_thread_reads_on(
    error: BaseException,
) -> None:
    threads = ReaderThreads(1, "database-read")

    def fail(_: None) -> None:
        raise error

    try:
        async with asyncio.timeout(5):  # a thread that died with the error never answers
            with pytest.raises(type(error)):
                await threads.run(fail, None)
            assert await threads.run(str.upper, "next") == "NEXT"
    finally:
        threads.stop()


async def test_a_read_whose_caller_went_away_while_it_ran_ends_quietly() -> None:
    threads = ReaderThreads(1, "database-read")
    loop = asyncio.get_running_loop()
    reported: list[object] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    release = threading.Event()
    try:
        running = threads.run(lambda _: release.wait(5), None)
        await asyncio.sleep(0.05)  # taken by the thread
        running.cancel()
        release.set()
        assert await threads.run(str.upper, "next") == "NEXT"
        await asyncio.sleep(0)  # the first read's result has reached the loop by now
    finally:
        loop.set_exception_handler(None)
        threads.stop()

    assert reported == []


async def test_a_read_whose_caller_went_away_before_it_started_is_not_run() -> None:
    threads = ReaderThreads(1, "database-read")
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = threads.run(lambda _: release.wait(5), None)
        queued = threads.run(ran.append, "queued")
        queued.cancel()
        release.set()
        assert await busy is True
        await threads.run(ran.append, "after")
    finally:
        threads.stop()

    assert ran == ["after"]


async def test_stopping_ends_every_thread_after_the_reads_queued_before() -> None:
    threads = ReaderThreads(2, "test-stop")
    done = [threads.run(lambda n: n, n) for n in range(4)]
    threads.stop()

    assert await asyncio.gather(*done) == [0, 1, 2, 3]
    for _ in range(50):
        if not any(t.name.startswith("test-stop") for t in threading.enumerate()):
            break
        await asyncio.sleep(0.02)
    assert not any(t.name.startswith("test-stop") for t in threading.enumerate())
