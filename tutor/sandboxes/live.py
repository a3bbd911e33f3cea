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
from collections.abc import AsyncIterator, Callable, Container

from clusters.kube.feed import FEED, released

SETTLE_SECONDS = 0.03  # how long a burst of writes may take to be drawn as one
KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 1.0


def sse(event: str, data: str) -> str:
    """One server-sent event; each line of `data` becomes a data line (the browser rejoins them)."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def sandbox_events(
    sandboxes: Container[int],
    render: Callable[[], list[tuple[str, str]]],
    *,
    catch_up: bool,
    tick: float | None = None,
    poll: Callable[[], list[tuple[str, str]]] | None = None,
    changed: set[int] | None = None,
) -> AsyncIterator[str]:
    """The stream of one page: `render()` (synchronous, run in a thread) returns the (event,
    HTML) pairs to send now; it is called at once when `catch_up` (the sandbox changed since the
    page was drawn), after every burst of changes to the page's sandboxes (`changed`, when
    given, collects which ones changed, for `render` to read), and every `tick` seconds when
    given (for what changes without any object changing: a container's output). `poll()`, a
    cheap look at what changes outside the sandbox (an instructor's message), runs every
    POLL_SECONDS and returns the parts to send, usually none."""
    queue = await FEED.subscribe()
    draw = released(render)
    look = released(poll) if poll else None
    loop = asyncio.get_running_loop()
    # When each periodic duty is next due; other sandboxes' changes wake the loop too, so the
    # duties go by the clock, not by how long the last wait lasted.
    due = {"poll": loop.time() + POLL_SECONDS, "tick": loop.time() + (tick or 0), "alive": loop.time()}
    try:
        yield "retry: 2000\n\n"
        if catch_up:
            for event, html in await draw():
                yield sse(event, html)
        while True:
            due["alive"] = loop.time() + KEEPALIVE_SECONDS
            change = None
            while change is None or change.sandbox_id not in sandboxes:
                wanted = [due["alive"]] + ([due["poll"]] if look else []) + ([due["tick"]] if tick else [])
                try:
                    change = await asyncio.wait_for(queue.get(), timeout=max(min(wanted) - loop.time(), 0))
                except TimeoutError:
                    change = None
                now = loop.time()
                if look and now >= due["poll"]:
                    due["poll"] = now + POLL_SECONDS
                    for event, html in await look():
                        yield sse(event, html)
                if tick and now >= due["tick"]:
                    due["tick"] = now + tick
                    for event, html in await draw():
                        yield sse(event, html)
                if now >= due["alive"]:
                    due["alive"] = now + KEEPALIVE_SECONDS
                    yield ": keep-alive\n\n"
            await asyncio.sleep(SETTLE_SECONDS)
            burst = [change]
            while not queue.empty():
                burst.append(queue.get_nowait())
            if changed is not None:
                changed.update(c.sandbox_id for c in burst if c.sandbox_id in sandboxes)
            for event, html in await draw():
                yield sse(event, html)
    finally:
        FEED.unsubscribe(queue)
