"""The demo app: answers every request with the name of the dyno that served it."""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DYNO = os.environ.get("DYNO", "unknown")


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the router can pool connections
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

    def do_GET(self):
        body = f"Hello from {DYNO}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # the router logs every request already


port = int(os.environ["PORT"])
server = ThreadingHTTPServer(("0.0.0.0", port), Hello)
server.daemon_threads = True
print(f"{DYNO} listening on port {port}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
sys.exit(0)
