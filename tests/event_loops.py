"""Running a coroutine to its end from a synchronous test."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_apart(coroutine, loop_factory=None):
    """asyncio.run on a thread of its own: a browser test earlier in this process leaves
    Playwright's event loop running in the main thread, where asyncio.run refuses to start."""

    def run():
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(coroutine)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
