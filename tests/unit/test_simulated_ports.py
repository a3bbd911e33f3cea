"""The simulated runtime's forwarded connections: reading a request head, writing an answer."""

from clusters.simulated_ports import http_response, request_target


def test_a_request_head_gives_its_method_and_path():
    assert request_target(b"GET /ready?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n") == ("GET", "/ready?x=1")
    assert request_target(b"\x16\x03\x01 not http") is None


def test_an_answer_is_http_1_1_that_closes_the_connection():
    response = http_response(404, "missing\n", server="nginx/1.27.5")
    head, body = response.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 404 Not Found"
    assert "Server: nginx/1.27.5" in lines
    assert "Content-Length: 8" in lines
    assert "Connection: close" in lines
    assert body == b"missing\n"


def test_a_head_request_gets_the_headers_only():
    response = http_response(200, "hello\n", method="HEAD")
    assert response.endswith(b"\r\n\r\n")
    assert b"Content-Length: 6" in response
