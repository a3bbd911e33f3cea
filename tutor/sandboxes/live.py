"""Server-sent events for the sandbox pages: one stream per tab, fed by the change log.

A page opens one stream; the stream subscribes to the change feed that also serves kubectl's
watches (`clusters.kube.feed`), and whenever the page's sandbox changes it renders the parts of
the page that show it — the cluster view, the new timeline entries, the lesson's checks — and
sends each as a named event that htmx's SSE extension swaps in. A burst of changes (a rollout
writes dozens) is drawn once: the stream waits a moment for the burst to settle. A stream costs
no thread while it waits; rendering borrows one, and a database connection, only while it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from clusters.kube.feed import FEED, released

SETTLE_SECONDS = 0.03  # how long a burst of writes may take to be drawn as one
KEEPALIVE_SECONDS = 15.0


def sse(event: str, data: str) -> str:
    """One server-sent event; each line of `data` becomes a data line (the browser rejoins them)."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def sandbox_events(
    sandbox_id: int, render: Callable[[], list[tuple[str, str]]], *, catch_up: bool, tick: float | None = None
) -> AsyncIterator[str]:
    """The stream of one page: `render()` (synchronous, run in a thread) returns the (event,
    HTML) pairs to send now; it is called at once when `catch_up` (the sandbox changed since the
    page was drawn), after every burst of changes to the sandbox, and every `tick` seconds when
    given (for what changes without any object changing: a container's output)."""
    queue = await FEED.subscribe()
    draw = released(render)
    wait = min(tick, KEEPALIVE_SECONDS) if tick else KEEPALIVE_SECONDS
    try:
        yield "retry: 2000\n\n"
        if catch_up:
            for event, html in await draw():
                yield sse(event, html)
        while True:
            try:
                change = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                if tick:
                    for event, html in await draw():
                        yield sse(event, html)
                yield ": keep-alive\n\n"
                continue
            if change.sandbox_id != sandbox_id:
                continue
            await asyncio.sleep(SETTLE_SECONDS)
            while not queue.empty():
                queue.get_nowait()
            for event, html in await draw():
                yield sse(event, html)
    finally:
        FEED.unsubscribe(queue)
