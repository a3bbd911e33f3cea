"""The API's streams over WebSocket: `kubectl exec` (and `cp`, which rides on it), and
`kubectl port-forward` (SPDY/3.1 tunnelled through the WebSocket, see clusters.kube.spdy).

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

from clusters import errors, idle
from clusters.kube import spdy
from clusters.kube.access import sandbox_for_request
from clusters.kube.paths import parse_path
from clusters.pod_exec import ExecRequest, attach_open, exec_open, port_open
from clusters.runtime.base import ExecProcess, PortConnection

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
PORT_FORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
PORT_READ_BYTES = 32 * 1024
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
READ_SECONDS = 0.25  # how long one blocking read waits before the pump looks at the connection again
EXIT_WAIT_SECONDS = 10
RESTORE_WAIT_SECONDS = 60  # at most, for a sandbox back from a pause to start its containers again
NORMAL_CLOSURE = 1000
API_PATH = re.compile(r"^/k8s/(?P<sandbox>[0-9a-f-]{32,36})(?:/t/(?P<token>[A-Za-z0-9_-]+))?(?P<path>/.*)$")
THREADS = ThreadPoolExecutor(max_workers=256, thread_name_prefix="kube-stream")

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


@dataclass(frozen=True)
class StreamTarget:
    sandbox_uid: str
    token: str | None
    request: ExecRequest  # for portforward, only its namespace and pod count
    subresource: str = "exec"


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
    if info.subresource not in ("exec", "attach", "portforward"):
        raise errors.BadRequest(
            f"streaming {info.subresource or 'a pod'} is not served; exec, attach and portforward are"
        )
    if info.subresource == "portforward":
        request = ExecRequest(namespace=info.namespace, pod=info.name, command=())
        return StreamTarget(matched["sandbox"], matched["token"], request, subresource="portforward")
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
    return StreamTarget(matched["sandbox"], matched["token"], request, subresource=info.subresource)


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


def _offered(scope: dict, headers: dict[str, str]) -> list[str]:
    """The subprotocols the client offers: ASGI's `subprotocols`, else the raw header."""
    offered = list(scope.get("subprotocols") or [])
    return offered or [item.strip() for item in headers.get("sec-websocket-protocol", "").split(",") if item.strip()]


def _sandbox(target: StreamTarget, authorization: str):
    sandbox = sandbox_for_request(
        sandbox_uid=target.sandbox_uid, path_token=target.token, authorization=authorization, user=None
    )
    # A sandbox coming back from an idle pause (clusters.idle) is recreating its containers: a
    # stream to one waits for it, rather than failing on a container about to run again.
    idle.restore_wait(sandbox=sandbox, timeout=RESTORE_WAIT_SECONDS)
    return sandbox


def _open(target: StreamTarget, authorization: str) -> ExecProcess:
    sandbox = _sandbox(target, authorization)
    if target.subresource == "attach":
        return attach_open(sandbox=sandbox, request=target.request)
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
    offered = _offered(scope, headers)
    protocol = next((name for name in PROTOCOLS if name in offered), None)
    authorization = headers.get("authorization", "")
    try:
        target = stream_target(scope["path"], scope.get("query_string", b""))
        if target.subresource == "portforward":
            if PORT_FORWARD_PROTOCOL not in offered:
                raise errors.BadRequest(f"a streaming protocol is required: {PORT_FORWARD_PROTOCOL}")
            sandbox = await _blocking(_sandbox, target, authorization)
        else:
            if protocol is None:
                raise errors.BadRequest(f"a streaming protocol is required: one of {', '.join(PROTOCOLS)}")
            process = await _blocking(_open, target, authorization)
    except errors.ApiError as error:
        await _refuse(scope, send, error)
        return
    if target.subresource == "portforward":
        await send({"type": "websocket.accept", "subprotocol": PORT_FORWARD_PROTOCOL})
        await PortForwardSession(sandbox, target.request, receive, send).run()
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


@dataclass
class _Forward:
    """One forwarded connection: the client's error and data streams of one request id."""

    error_stream: int | None = None
    data_stream: int | None = None
    connection: PortConnection | None = None
    pump: asyncio.Task | None = None


class PortForwardSession:
    """One `kubectl port-forward` connection: SPDY streams in, pod connections out."""

    def __init__(self, sandbox, request: ExecRequest, receive: Receive, send: Send):
        self.sandbox = sandbox
        self.request = request
        self.receive = receive
        self.send_ws = send
        self.reader = spdy.FrameReader()
        self.codec = spdy.HeaderCodec()
        self.forwards: dict[str, _Forward] = {}
        self.by_stream: dict[int, _Forward] = {}
        self.write_lock = asyncio.Lock()

    async def send(self, payload: bytes) -> None:
        async with self.write_lock:  # header compression is one ordered context: frames in order
            await self.send_ws({"type": "websocket.send", "bytes": payload})

    async def run(self) -> None:
        try:
            while True:
                message = await self.receive()
                if message["type"] == "websocket.disconnect":
                    return
                for frame in self.reader.feed(message.get("bytes") or b""):
                    await self.handle(frame)
        except spdy.SpdyError:
            await self.send_ws({"type": "websocket.close", "code": 1002})
        finally:
            for forward in self.forwards.values():
                if forward.pump:
                    forward.pump.cancel()
                if forward.connection:
                    await _blocking(forward.connection.close)

    async def handle(self, frame: spdy.Control | spdy.Data) -> None:
        if isinstance(frame, spdy.Data):
            forward = self.by_stream.get(frame.stream_id)
            if forward is None or frame.stream_id != forward.data_stream or forward.connection is None:
                return
            if frame.data:
                await _blocking(forward.connection.sendall, frame.data)
            if frame.fin:
                await _blocking(forward.connection.shutdown_write)
        elif frame.kind == spdy.SYN_STREAM:
            await self.stream_opened(*spdy.syn_stream_of(frame, self.codec))
        elif frame.kind == spdy.PING:
            await self.send(spdy.ping_echo(frame))
        elif frame.kind == spdy.RST_STREAM:
            forward = self.by_stream.get(spdy.stream_id_of(frame))
            if forward and forward.connection:
                await _blocking(forward.connection.close)

    async def stream_opened(self, stream_id: int, headers: dict[str, str]) -> None:
        async with self.write_lock:
            await self.send_ws({"type": "websocket.send", "bytes": spdy.syn_reply(stream_id, self.codec)})
        forward = self.forwards.setdefault(headers.get("requestid", str(stream_id)), _Forward())
        self.by_stream[stream_id] = forward
        if headers.get("streamtype") == "error":
            forward.error_stream = stream_id
            return
        forward.data_stream = stream_id
        try:
            port = int(headers.get("port", ""))
            forward.connection = await _blocking(self.connect, port)
        except (ValueError, errors.ApiError) as error:
            message = getattr(error, "message", None) or f"invalid port {headers.get('port', '')!r}"
            await self.finish(
                forward, f"error forwarding port {headers.get('port', '')} to pod {self.request.pod}: {message}"
            )
            return
        forward.pump = asyncio.create_task(self.pump(forward))

    def connect(self, port: int) -> PortConnection:
        return port_open(sandbox=self.sandbox, namespace=self.request.namespace, pod_name=self.request.pod, port=port)

    async def pump(self, forward: _Forward) -> None:
        """The pod's bytes to the client, until the pod's side closes."""
        while True:
            chunk = await _blocking(forward.connection.recv, PORT_READ_BYTES)
            if not chunk:
                break
            await self.send(spdy.data(forward.data_stream, chunk))
        await self.finish(forward, "")

    async def finish(self, forward: _Forward, error: str) -> None:
        """End both streams of a connection (kubectl waits for the error stream's end)."""
        if forward.data_stream is not None:
            await self.send(spdy.data(forward.data_stream, b"", fin=True))
        if forward.error_stream is not None:
            await self.send(spdy.data(forward.error_stream, error.encode(), fin=True))
