"""`kubectl port-forward` on the simulated runtime: a connection to a pod's port, answered by the
server the runtime models there.

The simulated runtime models what listens on each port of a pod and what an HTTP server answers
(clusters.runtime.simulated, `http_answer`), the same answers `wget` from another pod gets. A
forwarded connection reads the client's request head, asks the pod's node for the answer and
writes it back as HTTP/1.1 with `Connection: close`; then the pod's side closes, as a server that
does not keep connections alive would. Nothing listening on the port is a refused connection;
a port that listens but does not speak HTTP (a database) accepts and closes without a word.
"""

from __future__ import annotations

import queue
from email.utils import formatdate
from http import HTTPStatus

from clusters.models import Sandbox
from clusters.runtime.base import PodRef, RuntimeError_
from clusters.simulated_exec import node_runtime

MAX_HEAD_BYTES = 64 * 1024


def request_target(head: bytes) -> tuple[str, str] | None:
    """(method, path) of an HTTP request head, or None when it is not one (pure)."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    return parts[0], parts[1]


def http_response(status: int, body: str, *, server: str = "", method: str = "GET") -> bytes:
    """An HTTP/1.1 response that ends the connection (pure, but for the date)."""
    payload = body.encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    headers = [
        f"HTTP/1.1 {status} {reason}",
        f"Date: {formatdate(usegmt=True)}",
        "Content-Type: text/html",
        f"Content-Length: {len(payload)}",
        "Connection: close",
    ]
    if server:
        headers.insert(1, f"Server: {server}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else payload)


class SimulatedConnection:
    """A PortConnection to a modelled server: one request, one answer, then closed."""

    def __init__(self, sandbox: Sandbox, pod: PodRef, port: int, *, speaks_http: bool) -> None:
        self.sandbox, self.pod, self.port = sandbox, pod, port
        self.speaks_http = speaks_http
        self.head = b""
        self.outgoing: queue.Queue[bytes] = queue.Queue()
        self.answered = False
        if not speaks_http:
            self.outgoing.put(b"")

    def sendall(self, data: bytes) -> None:
        if self.answered or not self.speaks_http:
            return
        self.head += data
        if b"\r\n\r\n" in self.head or len(self.head) > MAX_HEAD_BYTES:
            self.answered = True
            self.outgoing.put(self._answer())
            self.outgoing.put(b"")

    def _answer(self) -> bytes:
        target = request_target(self.head)
        if target is None:
            return http_response(400, "Bad Request\n")
        method, path = target
        runtime = node_runtime(self.sandbox, self.pod.node)
        answer = runtime.http_answer(self.pod.uid, self.port, path) if runtime is not None else None
        if answer is None:
            return b""  # the server went away meanwhile: the connection just closes
        return http_response(answer.status, answer.body, server=answer.server, method=method)

    def recv(self, size: int) -> bytes:
        return self.outgoing.get()

    def shutdown_write(self) -> None:
        if not self.answered:
            self.answered = True
            self.outgoing.put(b"")

    def close(self) -> None:
        self.outgoing.put(b"")


def port_connect(*, sandbox: Sandbox, pod: PodRef, port: int) -> SimulatedConnection:
    """Connect to a pod's port as the kubelet's port-forward would; refused when nothing listens."""
    runtime = node_runtime(sandbox, pod.node)
    answer = runtime.http_answer(pod.uid, port, "/") if runtime is not None else None
    if answer is None:
        raise RuntimeError_(
            f"failed to connect to localhost:{port} inside namespace of pod {pod.name}: connection refused"
        )
    return SimulatedConnection(sandbox, pod, port, speaks_http=answer.status != 0)
