"""The stream protocols' pure parts: what a WebSocket request asks for, the exit status kubectl
reads, SPDY framing and header compression, the engine's multiplexed output, the exec checks."""

from __future__ import annotations

import struct
import zlib

import pytest

from clusters import errors
from clusters.kube import spdy
from clusters.kube.streams import exit_status, stream_target
from clusters.pod_exec import exec_target
from clusters.runtime.docker import frames_split, namespace_pid

PREFIX = "/k8s/2dd72ddeefaf4df0a6ec6889a93d79fd"


def test_an_exec_request_reads_its_command_container_and_streams_from_the_query():
    target = stream_target(
        f"{PREFIX}/t/kt_abc/api/v1/namespaces/team-a/pods/web-0/exec",
        b"command=sh&command=-c&command=echo+%24HOME&container=main&stdin=true&stdout=true&tty=true",
    )
    assert target.token == "kt_abc"
    assert target.request.namespace == "team-a"
    assert target.request.pod == "web-0"
    assert target.request.command == ("sh", "-c", "echo $HOME")
    assert target.request.container == "main"
    assert target.request.stdin
    assert target.request.tty


def test_an_exec_without_any_stream_is_refused():
    with pytest.raises(errors.BadRequest, match="at least 1 of stdin, stdout, stderr"):
        stream_target(f"{PREFIX}/api/v1/namespaces/a/pods/p/exec", b"command=true")


def test_a_websocket_to_anything_but_a_pod_stream_is_not_found():
    with pytest.raises(errors.NotFound):
        stream_target(f"{PREFIX}/api/v1/namespaces/a/services/web/exec", b"")
    with pytest.raises(errors.NotFound):
        stream_target("/elsewhere/api/v1/namespaces/a/pods/p/exec", b"")


def test_port_forward_needs_only_the_pod():
    target = stream_target(f"{PREFIX}/api/v1/namespaces/a/pods/p/portforward", b"ports=80")
    assert target.subresource == "portforward"
    assert (target.request.namespace, target.request.pod) == ("a", "p")


def test_the_exit_status_carries_a_non_zero_code_as_kubectl_reads_it():
    assert exit_status(0, ("true",)) == {"metadata": {}, "status": "Success"}
    failed = exit_status(3, ("sh", "-c", "exit 3"))
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert "[sh -c exit 3], exit code 3" in failed["message"]


def test_the_spdy_dictionary_is_the_specifications():
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b"utf-,*,enq=0.")


def _client_syn_stream(stream_id: int, headers: dict[str, str], deflater) -> bytes:
    raw = struct.pack(">I", len(headers))
    for name, value in headers.items():
        raw += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
    block = deflater.compress(raw) + deflater.flush(zlib.Z_SYNC_FLUSH)
    payload = struct.pack(">IIH", stream_id, 0, 0) + block
    return struct.pack(">HHB", 0x8003, spdy.SYN_STREAM, 0) + len(payload).to_bytes(3, "big") + payload


def test_syn_streams_cut_anywhere_are_read_with_one_compression_context():
    deflater = zlib.compressobj(9, zdict=spdy.DICTIONARY)
    wire = _client_syn_stream(1, {"streamtype": "error", "port": "80", "requestid": "0"}, deflater)
    wire += _client_syn_stream(3, {"streamtype": "data", "port": "80", "requestid": "0"}, deflater)
    wire += spdy.data(3, b"GET / HTTP/1.1\r\n\r\n", fin=True)
    reader, codec = spdy.FrameReader(), spdy.HeaderCodec()
    frames = [frame for index in range(0, len(wire), 7) for frame in reader.feed(wire[index : index + 7])]
    assert [spdy.syn_stream_of(frame, codec) for frame in frames[:2]] == [
        (1, {"streamtype": "error", "port": "80", "requestid": "0"}),
        (3, {"streamtype": "data", "port": "80", "requestid": "0"}),
    ]
    assert frames[2] == spdy.Data(3, spdy.FLAG_FIN, b"GET / HTTP/1.1\r\n\r\n")
    assert frames[2].fin


def test_a_syn_reply_decodes_on_the_client_side():
    server = spdy.HeaderCodec()
    reply = spdy.syn_reply(5, server)
    (frame,) = spdy.FrameReader().feed(reply)
    assert frame.kind == spdy.SYN_REPLY
    assert int.from_bytes(frame.payload[:4], "big") == 5
    client = zlib.decompressobj(zdict=spdy.DICTIONARY)
    assert client.decompress(frame.payload[4:]) == b"\x00\x00\x00\x00"


def test_another_spdy_version_is_refused():
    frame = struct.pack(">HHB", 0x8002, spdy.PING, 0) + (4).to_bytes(3, "big") + b"\x00\x00\x00\x01"
    with pytest.raises(spdy.SpdyError, match="version 2"):
        spdy.FrameReader().feed(frame)


def test_a_ping_goes_back_as_it_came():
    ping = struct.pack(">HHB", 0x8003, spdy.PING, 0) + (4).to_bytes(3, "big") + b"\x00\x00\x00\x07"
    (frame,) = spdy.FrameReader().feed(ping)
    assert spdy.ping_echo(frame) == ping


def test_the_engines_multiplexed_output_is_split_by_stream_keeping_partial_frames():
    out = b"\x01\x00\x00\x00\x00\x00\x00\x03abc"
    err = b"\x02\x00\x00\x00\x00\x00\x00\x02ok"
    frames, rest = frames_split(out + err + b"\x01\x00\x00\x00\x00\x00\x00\x05par")
    assert frames == [(1, b"abc"), (2, b"ok")]
    assert rest == b"\x01\x00\x00\x00\x00\x00\x00\x05par"


def test_a_host_pid_maps_to_its_namespace_pid_through_proc(tmp_path):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_text("Name:\tsleep\nNSpid:\t42\t7\n")
    assert namespace_pid(42, proc=str(tmp_path)) == 7
    assert namespace_pid(43, proc=str(tmp_path)) is None


def _pod(containers=("main",), phase="Running", node="node-1") -> dict:
    return {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": name} for name in containers], "nodeName": node},
        "status": {"phase": phase},
    }


def test_exec_defaults_to_the_only_container_and_names_the_choices_otherwise():
    assert exec_target(pod=_pod(), container="") == "main"
    with pytest.raises(errors.BadRequest, match=r"choose one of: \[main side\]"):
        exec_target(pod=_pod(("main", "side")), container="")
    with pytest.raises(errors.BadRequest, match="container nope is not valid for pod web"):
        exec_target(pod=_pod(), container="nope")


def test_exec_into_a_finished_or_unscheduled_pod_is_refused_with_the_reason():
    with pytest.raises(errors.BadRequest, match="completed pod; current phase is Succeeded"):
        exec_target(pod=_pod(phase="Succeeded"), container="main")
    with pytest.raises(errors.BadRequest, match="does not have a host assigned"):
        exec_target(pod=_pod(node=""), container="main")
