"""A stand-in for a Discord webhook: an HTTP server on loopback that records what it receives.

Discord answers a webhook POST with 204 No Content (200 with ?wait=true); this does the same,
and keeps every JSON body so a test can check the embeds Alertmanager built.

Run it alone to watch what Alertmanager sends:  python3 tests/ops/fake_discord.py [port]
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeDiscord:
    """Serves POST /api/webhooks/<id>/<token> on 127.0.0.1 and records the JSON bodies."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[dict] = []
        self.paths: list[str] = []
        self._cond = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                if not self.path.startswith("/api/webhooks/"):
                    self.send_response(404)
                    self.end_headers()
                    return
                with owner._cond:
                    owner.messages.append(body)
                    owner.paths.append(self.path)
                    owner._cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/webhooks/123456789/fake-token"

    def __enter__(self) -> "FakeDiscord":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate, timeout: float) -> dict | None:
        """Returns the first received message for which predicate(message) is true."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages:
                    if predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)


if __name__ == "__main__":
    with FakeDiscord(int(sys.argv[1]) if len(sys.argv) > 1 else 0) as fake:
        print(f"webhook URL: {fake.url}", flush=True)
        seen = 0
        try:
            while True:
                time.sleep(0.5)
                for m in fake.messages[seen:]:
                    print(json.dumps(m, indent=2, ensure_ascii=False), flush=True)
                seen = len(fake.messages)
        except KeyboardInterrupt:
            pass
