"""The brokers' transports, each with a fix for a way upstream's stops the worker.

The embedded broker: kombu's filesystem transport, with messages written atomically.

Upstream's transport creates the message file, then locks and fills it; a consumer polling the
folder can move it away in between and read an empty file, and the worker then stops with
"Unrecoverable error: JSONDecodeError". Writing to a name no consumer matches and renaming it
into place (atomic on one filesystem) means a consumer only ever sees whole messages.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem, redis
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


class RedisChannel(redis.Channel):
    """Redis: when the server goes away (a restart), the worker closes the lost connection, and
    closing a channel restores its unacknowledged messages through a new client; but the
    connection has let go of its transport by then, so upstream's channel fails with
    AttributeError ('NoneType' object has no attribute 'hostname'), which is no connection error,
    and the worker stops with "Unrecoverable error" instead of reconnecting. Here that case is the
    connection error it is. (Nothing is lost by not restoring: a restarted Redis has no messages,
    and every key still due in the database is sent again by the resync.)"""

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise redis.redis.exceptions.ConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(redis.Transport):
    Channel = RedisChannel


def use_fixed_transports() -> None:
    TRANSPORT_ALIASES["filesystem"] = "tutor.broker:Transport"
    TRANSPORT_ALIASES["redis"] = "tutor.broker:RedisTransport"
