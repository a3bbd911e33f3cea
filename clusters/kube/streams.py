"""The API's streams over WebSocket: `kubectl exec` (and `cp`, which rides on it).

kubectl 1.30+ opens `…/pods/<name>/exec?command=…&container=…&stdin=…&stdout=…&stderr=…&tty=…`
as a WebSocket offering the subprotocol `v5.channel.k8s.io`. Every binary message starts with
its channel: 0 stdin, 1 stdout, 2 stderr, 3 the error channel (one `Status` at the end, carrying
the exit code), 4 terminal resize (`{"Width":…,"Height":…}`), and in v5, 255 followed by a
channel number closes that channel (kubectl sends [255, 0] at the end of its stdin). The server
closes the connection once the process has ended. When the upgrade is refused kubectl retries
with SPDY, which this server does not speak: the plain HTTP request then gets the same Status
(clusters.kube.views), so kubectl prints the real reason.

Everything blocking (the database, the engine's socket) runs on threads of this module's own
pool: the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.db import connections

from clusters import errors
from clusters.kube.access import sandbox_for_request
from clusters.kube.paths import parse_path
from clusters.pod_exec import ExecRequest, exec_open
from clusters.runtime.base import ExecProcess

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
READ_SECONDS = 0.25  # how long one blocking read waits before the pump looks at the connection again
EXIT_WAIT_SECONDS = 10
NORMAL_CLOSURE = 1000
API_PATH = re.compile(r"^/k8s/(?P<sandbox>[0-9a-f-]{32,36})(?:/t/(?P<token>[A-Za-z0-9_-]+))?(?P<path>/.*)$")
THREADS = ThreadPoolExecutor(max_workers=256, thread_name_prefix="kube-stream")

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


@dataclass(frozen=True)
class StreamTarget:
    sandbox_uid: str
    token: str | None
    request: ExecRequest


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or [""])[-1].lower() in ("1", "true", "yes")


def stream_target(path: str, query_string: bytes) -> StreamTarget:
    """What a WebSocket request asks for, from its path and query (pure)."""
    matched = API_PATH.match(path)
    if not matched:
        raise errors.NotFound("the server could not find the requested resource")
    info = parse_path(matched["path"])
    if info.target != "resource" or info.plural != "pods" or info.group or not info.namespace or not info.name:
        raise errors.NotFound("the server could not find the requested resource")
    if info.subresource != "exec":
        raise errors.BadRequest(f"streaming {info.subresource or 'a pod'} over WebSocket is not served; exec is")
    query = parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
    request = ExecRequest(
        namespace=info.namespace,
        pod=info.name,
        command=tuple(query.get("command", [])),
        container=(query.get("container") or [""])[-1],
        stdin=_flag(query, "stdin"),
        tty=_flag(query, "tty"),
    )
    if not (_flag(query, "stdin") or _flag(query, "stdout") or _flag(query, "stderr")):
        raise errors.BadRequest("you must specify at least 1 of stdin, stdout, stderr")
    return StreamTarget(sandbox_uid=matched["sandbox"], token=matched["token"], request=request)


def exit_status(code: int | None, command: tuple[str, ...]) -> dict:
    """The error channel's last word, as the kubelet writes it: kubectl exits with the code it carries."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    if code is None:
        return {"metadata": {}, "status": "Failure", "message": "the process did not report an exit code"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"[{' '.join(command)}], exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _headers(scope: dict) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", [])}


def _offered(headers: dict[str, str]) -> list[str]:
    return [item.strip() for item in headers.get("sec-websocket-protocol", "").split(",") if item.strip()]


def _open(target: StreamTarget, authorization: str) -> ExecProcess:
    sandbox = sandbox_for_request(
        sandbox_uid=target.sandbox_uid, path_token=target.token, authorization=authorization, user=None
    )
    return exec_open(sandbox=sandbox, request=target.request)


def _closing_connections(call: Callable, *args):
    """Run a blocking call; give back any database connection it opened on this pool thread."""
    try:
        return call(*args)
    finally:
        connections.close_all()


async def _blocking(call: Callable, *args):
    return await asyncio.get_running_loop().run_in_executor(THREADS, _closing_connections, call, *args)


async def _refuse(scope: dict, send: Send, error: errors.ApiError) -> None:
    """Answer the upgrade with the error's Status and code, as the API server does."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = json.dumps(error.status(), separators=(",", ":")).encode()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": error.code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def websocket_application(scope: dict, receive: Receive, send: Send) -> None:
    """The ASGI application for every WebSocket request the site receives."""
    if (await receive())["type"] != "websocket.connect":
        return
    headers = _headers(scope)
    offered = _offered(headers)
    protocol = next((name for name in PROTOCOLS if name in offered), None)
    try:
        target = stream_target(scope["path"], scope.get("query_string", b""))
        if protocol is None:
            raise errors.BadRequest(f"a streaming protocol is required: one of {', '.join(PROTOCOLS)}")
        process = await _blocking(_open, target, headers.get("authorization", ""))
    except errors.ApiError as error:
        await _refuse(scope, send, error)
        return
    await send({"type": "websocket.accept", "subprotocol": protocol})
    await ExecSession(process, target.request, protocol, receive, send).run()


class ExecSession:
    """One accepted exec: client input to the process, process output to the client."""

    def __init__(self, process: ExecProcess, request: ExecRequest, protocol: str, receive: Receive, send: Send):
        self.process = process
        self.request = request
        self.protocol = protocol
        self.receive = receive
        self.send = send

    async def run(self) -> None:
        inbound = asyncio.create_task(self.pump_input())
        outbound = asyncio.create_task(self.pump_output())
        done, _ = await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
        if outbound in done and outbound.exception() is None:
            code = await _blocking(self.process.wait, EXIT_WAIT_SECONDS)
            status = json.dumps(exit_status(code, self.request.command), separators=(",", ":")).encode()
            await self.send({"type": "websocket.send", "bytes": bytes([ERROR]) + status})
            await self.send({"type": "websocket.close", "code": NORMAL_CLOSURE})
            inbound.cancel()
            return
        # The client went away (or a pump failed): end the process, as a closed connection should.
        outbound.cancel()
        await _blocking(self.process.terminate)

    async def pump_output(self) -> None:
        while True:
            chunk = await _blocking(self.process.read_output, READ_SECONDS)
            if chunk is None:
                continue
            stream, data = chunk
            if not data:
                return
            if stream == STDERR and self.request.tty:
                stream = STDOUT
            await self.send({"type": "websocket.send", "bytes": bytes([stream]) + data})

    async def pump_input(self) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes") or (message.get("text") or "").encode()
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == STDIN and self.request.stdin:
                await _blocking(self.process.write_stdin, payload)
            elif channel == RESIZE:
                size = _size(payload)
                if size:
                    await _blocking(self.process.resize, *size)
            elif channel == CLOSE and payload[:1] == bytes([STDIN]):
                await _blocking(self.process.close_stdin)


def _size(payload: bytes) -> tuple[int, int] | None:
    try:
        size = json.loads(payload)
        return int(size["Width"]), int(size["Height"])
    except (ValueError, KeyError, TypeError):
        return None
