"""The sync tests' own fixtures: a fault-injecting proxy between office and central."""
from __future__ import annotations

import itertools
import socket
import threading
import time

import pytest

FAULT_MODES = ("pass", "delay", "drop_request", "truncate_request", "drop_response",
               "truncate_response", "duplicate", "error_5xx", "error_5xx_after")


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that misbehaves on purpose, one HTTP request per connection.

    ``plan()`` picks each connection's fate from :data:`FAULT_MODES`:

    - ``pass`` / ``delay``: forward (after 0.2 s);
    - ``drop_request``: hang up before forwarding anything;
    - ``truncate_request``: forward the headers and half the body, then hang up on both;
    - ``drop_response``: forward the whole request, let the server finish, answer nothing;
    - ``truncate_response``: forward, then relay only half the server's answer;
    - ``duplicate``: send the request to the server twice at once, relay the second answer;
    - ``error_5xx``: answer 503 without asking the server;
    - ``error_5xx_after``: let the server do the work, then answer 502 anyway.
    """

    def __init__(self, upstream_port: int | list[int], plan) -> None:
        # Several upstream ports make it a round-robin load balancer over server processes.
        self.upstream_ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
        self._turn = itertools.count()
        self.plan = plan
        self.seen: list[str] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._listener.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.plan()
                self.seen.append(mode)
                port = self.upstream_ports[next(self._turn) % len(self.upstream_ports)]
            threading.Thread(target=self._handle, args=(client, mode, port), daemon=True).start()

    @staticmethod
    def _read_request(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    @staticmethod
    def _forward(request: bytes, port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as upstream:
            upstream.sendall(request)
            response = b""
            while True:
                chunk = upstream.recv(1 << 20)
                if not chunk:
                    return response
                response += chunk

    def _handle(self, client: socket.socket, mode: str, port: int) -> None:
        client.settimeout(30)
        try:
            request = self._read_request(client)
            if not request or mode == "drop_request":
                return
            if mode == "error_5xx":
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
                               b"Content-Length: 19\r\nConnection: close\r\n\r\n<h1>try later</h1>\n")
                return
            if mode == "truncate_request":
                head, _, body = request.partition(b"\r\n\r\n")
                with socket.create_connection(("127.0.0.1", port), timeout=5) as upstream:
                    upstream.sendall(head + b"\r\n\r\n" + body[: len(body) // 2])
                return
            if mode == "delay":
                time.sleep(0.2)
            if mode == "duplicate":
                results: list[bytes] = []
                twin = threading.Thread(target=lambda: results.append(self._forward(request, port)))
                twin.start()
                response = self._forward(request, port)
                twin.join()
            else:
                response = self._forward(request, port)
            if mode == "drop_response":
                return
            if mode == "truncate_response":
                response = response[: max(1, len(response) // 2)]
            if mode == "error_5xx_after":
                response = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                            b"Connection: close\r\n\r\n")
            client.sendall(response)
        except OSError:
            pass
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()


@pytest.fixture(scope="session")
def fault_proxy():
    """:class:`FaultProxy`: ``fault_proxy(upstream_port, plan)``, stopped by the test."""
    return FaultProxy


@pytest.fixture(params=[mode for mode in FAULT_MODES if mode != "pass"])
def fault_mode(request) -> str:
    """Each way the network can misbehave (all but passing the request through)."""
    return request.param


@pytest.fixture(scope="session")
def fault_modes() -> tuple[str, ...]:
    return FAULT_MODES
