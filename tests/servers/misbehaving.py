"""Servers that misbehave the ways real ones do: garbage, silence, endless or dripping bodies.

Plain sockets rather than an HTTP framework, so each fault is exactly what is on the wire.
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading

MODES = ("garbage", "hang", "endless", "drip", "not-http", "error")


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        sock: socket.socket = self.request
        sock.settimeout(2)
        try:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            server.hits += 1
            self._misbehave(server, sock)
        except OSError:
            pass

    def _misbehave(self, server: _Server, sock: socket.socket) -> None:
        mode = server.mode
        if mode == "hang":
            server.stop.wait()
        elif mode == "garbage":
            body = os.urandom(200)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        elif mode == "error":
            sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n"
                         b"Connection: close\r\n\r\nbusy")
        elif mode == "not-http":
            sock.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        elif mode in ("endless", "drip"):
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Connection: close\r\n\r\n")
            block = b"\x00" * (65536 if mode == "endless" else 1)
            while not server.stop.is_set():
                sock.sendall(block)
                if mode == "drip":
                    server.stop.wait(0.05)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.hits = 0
        self.stop = threading.Event()


class MisbehavingServer:
    """A loopback server in one of :data:`MODES`; ``url`` is its base address."""

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.server = _Server(mode)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def hits(self) -> int:
        return self.server.hits

    def close(self) -> None:
        self.server.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
