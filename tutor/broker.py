"""The embedded broker: kombu's filesystem transport, with messages written atomically.

Upstream's transport creates the message file, then locks and fills it; a consumer polling the
folder can move it away in between and read an empty file, and the worker then stops with
"Unrecoverable error: JSONDecodeError". Writing to a name no consumer matches and renaming it
into place (atomic on one filesystem) means a consumer only ever sees whole messages.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # ".writing" makes the name miss the consumer's `<queue>.msg` match until the rename.
        temporary = final + ".writing"
        with open(temporary, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, final)


class Transport(filesystem.Transport):
    Channel = Channel


def use_atomic_filesystem_transport() -> None:
    TRANSPORT_ALIASES["filesystem"] = "tutor.broker:Transport"
