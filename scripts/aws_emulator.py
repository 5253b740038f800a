"""The AWS emulator of the tests and benchmarks: moto server, and a proxy in front of it.

start_moto() runs moto server on a free loopback port. FaultProxy is a loopback HTTP proxy
that adds latency and injects AWS faults; given one moto server per region, it routes each
request to its region's server, as AWS's regional endpoints are served independently (one
moto server renders responses on one core: 6 s for 2,500 instances, and every region would
wait its turn). Used by the AWS inventory integration tests and scripts/bench_inventory.py.
Faults and routes are chosen per request from its SigV4 credential scope (access key, region, service):
  latency        seconds added to every request
  throttle_first the first N requests get a throttling error (EC2: RequestLimitExceeded)
  deny_regions   requests to these regions get an access-denied error
  bad_keys       requests signed with these access keys get an authentication error
Only ever listens on 127.0.0.1 and forwards to a loopback upstream.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_EC2_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
    "<Message>{message}</Message></Error></Errors><RequestID>injected</RequestID></Response>"
)
_QUERY_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>'
    "<Message>{message}</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
)
_FAULTS = {
    "throttle": {"ec2": ("RequestLimitExceeded", 503), "other": ("Throttling", 400)},
    "deny": {"ec2": ("UnauthorizedOperation", 403), "other": ("AccessDenied", 403)},
    "auth": {"ec2": ("AuthFailure", 401), "other": ("InvalidClientTokenId", 403)},
}


@dataclass
class Faults:
    latency: float = 0.0
    throttle_first: int = 0
    deny_regions: set[str] = field(default_factory=set)
    bad_keys: set[str] = field(default_factory=set)
    requests: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def choose(self, key: str, region: str) -> str | None:
        with self.lock:
            self.requests += 1
            fault = None
            if key in self.bad_keys:
                fault = "auth"
            elif region in self.deny_regions:
                fault = "deny"
            elif self.requests <= self.throttle_first:
                fault = "throttle"
            if fault:
                self.injected[fault] = self.injected.get(fault, 0) + 1
            return fault


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(moto_server: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start moto server on loopback and wait until it answers; returns the process and its URL."""
    port = free_port()
    server = subprocess.Popen(
        [moto_server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)  # loopback only
            return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("moto server did not start within 20 s")


class FaultProxy:
    def __init__(
        self, upstream: str, faults: Faults | None = None, port: int = 0, regional: dict[str, str] | None = None
    ) -> None:
        self.upstream = upstream.rstrip("/")
        # region -> its own moto server; other regions (and global services) go to upstream.
        self.regional = {region: url.rstrip("/") for region, url in (regional or {}).items()}
        self.faults = faults or Faults()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                scope = _SCOPE.search(self.headers.get("Authorization", ""))
                key, region, service = (scope["key"], scope["region"], scope["service"]) if scope else ("", "", "")
                if proxy.faults.latency:
                    time.sleep(proxy.faults.latency)
                fault = proxy.faults.choose(key, region)
                if fault:
                    kind = "ec2" if service == "ec2" else "other"
                    code, status = _FAULTS[fault][kind]
                    template = _EC2_ERROR if kind == "ec2" else _QUERY_ERROR
                    self._reply(
                        status,
                        template.format(code=code, message=f"injected {fault}").encode(),
                        {"Content-Type": "text/xml"},
                    )
                    return
                upstream = proxy.regional.get(region, proxy.upstream)
                request = urllib.request.Request(upstream + self.path, data=body or None, method=self.command)
                for name, value in self.headers.items():
                    if name.lower() not in ("host", "content-length", "connection"):
                        request.add_header(name, value)
                try:
                    with urllib.request.urlopen(request, timeout=300) as response:  # the upstream is moto on loopback
                        self._reply(response.status, response.read(), dict(response.headers))
                except urllib.error.HTTPError as error:
                    self._reply(error.code, error.read(), dict(error.headers))

            def _reply(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
