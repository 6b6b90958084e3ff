#!/usr/bin/env python3
# scep-webhook.py: the dynamic-challenge webhook an MDM would run, for
# tests/integration/scep.sh: HTTPS on loopback, one JSON line per call in
# the log file, and an answer chosen by the challenge's prefix:
#   dyn-yes-...   200 {"allow": true}
#   dyn-no-...    200 {"allow": false}
#   dyn-slow-...  sleeps 6 s, then 200 {"allow": true} (too late)
#   dyn-500-...   500
#   dyn-junk-...  200 with a body that is not JSON
#   anything else 200 {"allow": false}
# Usage: scep-webhook.py PORT CERT KEY LOG PIDFILE
import http.server
import json
import os
import socketserver
import ssl
import sys
import time

port, cert, key, log, pidfile = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            q = json.loads(raw)
        except ValueError:
            q = {}
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "content_type": self.headers.get("Content-Type"),
                                "query": q}) + "\n")
        ch = q.get("challenge", "")
        if ch.startswith("dyn-yes-"):
            self.answer(200, '{"allow": true}')
        elif ch.startswith("dyn-slow-"):
            time.sleep(6)
            self.answer(200, '{"allow": true}')
        elif ch.startswith("dyn-500-"):
            self.answer(500, '{"error": "down"}')
        elif ch.startswith("dyn-junk-"):
            self.answer(200, "<html>allow</html>")
        else:
            self.answer(200, '{"allow": false}')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", int(port)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(pidfile, "w") as f:
    f.write(str(os.getpid()) + "\n")
srv.serve_forever()
