"""The classroom's live parts: an instructor's messages on a learner's pages, and the dashboard.

The dashboard's stream is one per tab, however many learners: it follows the change log of every
sandbox of the class (through the same stream the sandbox pages use) and looks every second at
what lives outside the sandboxes — progress, enrollments, messages — and sends the grid, the
summary and the open learner's view again only when what they show has changed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils import translation

from tutor.classrooms.services import messages_for, newest_message_id


def messages_context(learner) -> dict:
    """What a learner's page draws in its messages box."""
    return {"class_messages": messages_for(learner), "class_message_last": newest_message_id(learner)}


def messages_poll(learner, *, after: int) -> Callable[[], list[tuple[str, str]]]:
    """For a learner's page stream: the messages box again whenever a message newer than the
    one the page shows (`after`) has arrived; nothing otherwise (one indexed query)."""
    seen = {"last": after}
    language = translation.get_language()

    def poll() -> list[tuple[str, str]]:
        newest = newest_message_id(learner)
        if newest <= seen["last"]:
            return []
        seen["last"] = newest
        with translation.override(language):
            return [("messages", render_to_string("classrooms/_messages.html", messages_context(learner)))]

    return poll
