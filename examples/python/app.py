"""A tiny web backend using channeld the way an App Engine app used the Channel API.

  GET  /      mints a token for the visitor and serves a page that opens goog.appengine.Channel
  POST /send  sends a message to a client id ({"client_id": "...", "message": "..."}, JSON or form)

and prints every presence change it hears from WatchPresence (a background thread).

  .tools/venv/bin/python examples/python/app.py [--port 8000] [--channeld 127.0.0.1:50051]
      [--channeld-http http://localhost:8080] [--api-key KEY]

Only the standard library, grpcio and protobuf (sdk/python/requirements.txt); the channel calls
are App Engine's, through `import channeld_channel as channel`.
"""

import argparse
import html
import json
import os
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Run from a checkout: the stubs (gen/python) and the App Engine module (sdk/python) sit beside us.
# A deployed app puts both on its PYTHONPATH instead.
_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path[:0] = [os.path.join(_ROOT, "gen", "python"), os.path.join(_ROOT, "sdk", "python")]

import grpc  # noqa: E402

import channeld_channel as channel  # noqa: E402  (was: from google.appengine.api import channel)
from channel.v1 import channel_pb2  # noqa: E402

MAX_BODY_BYTES = 64 * 1024


def parse_args() -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(description="channeld example backend (Python)")
    parser.add_argument("--host", default=env.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "8000")))
    parser.add_argument("--channeld", default=env.get("CHANNELD_GRPC_ADDR", "127.0.0.1:50051"),
                        help="where this backend reaches channeld's gRPC API (env CHANNELD_GRPC_ADDR)")
    parser.add_argument("--channeld-http", default=env.get("CHANNELD_HTTP_URL", "http://localhost:8080"),
                        help="where browsers reach channeld; it serves /_ah/channel/jsapi (env CHANNELD_HTTP_URL)")
    parser.add_argument("--api-key", default=env.get("CHANNELD_API_KEY", ""), help="env CHANNELD_API_KEY")
    return parser.parse_args()


# ---- presence: print every change, resume after a broken stream ---------------------------------


def watch_presence(client: channel.Client, stopping: threading.Event) -> None:
    cursor = ""
    retry_seconds = 0.5
    while not stopping.is_set():
        request = channel_pb2.WatchPresenceRequest(snapshot=cursor == "", cursor=cursor)
        try:
            for response in client.stub.WatchPresence(request, metadata=client.metadata):
                retry_seconds = 0.5
                if response.WhichOneof("kind") == "snapshot_complete":
                    cursor = response.snapshot_complete.cursor or cursor
                    print("presence: watching", flush=True)
                    continue
                event = response.event
                cursor = event.cursor
                state = channel_pb2.PresenceState.Name(event.state).removeprefix("PRESENCE_STATE_")
                reason = channel_pb2.PresenceReason.Name(event.reason).removeprefix("PRESENCE_REASON_").lower()
                print("presence: %s %s (%s)" % (event.client_id, state, reason), flush=True)
        except grpc.RpcError as err:
            if stopping.is_set():
                return
            print("presence: stream failed (%s: %s); retrying in %.1f s" % (err.code().name, err.details(), retry_seconds),
                  file=sys.stderr, flush=True)
        # The stream ended (channeld shut down) or failed: back off, then resume from the cursor.
        stopping.wait(retry_seconds)
        retry_seconds = min(retry_seconds * 2, 30.0)


# ---- the web side --------------------------------------------------------------------------------


def script_json(value: object) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c")


def page(channeld_http: str, client_id: str, token: str) -> str:
    return """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>channeld example (Python)</title>
<style>body { font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; } li { font-family: monospace; }</style>
</head>
<body>
<h1>channeld example (Python)</h1>
<p>You are <code id="client-id">%(client_id_html)s</code>.</p>
<form id="send-form">
  <input id="message" name="message" value="Hello!" autocomplete="off">
  <button type="submit" id="send">Send it to me through channeld</button>
</form>
<ol id="log"></ol>

<script src="%(jsapi)s"></script>
<script>
  var clientId = %(client_id_json)s;
  var token = %(token_json)s;
  function log(kind, text) {
    var li = document.createElement('li');
    li.className = kind;
    li.textContent = kind + ': ' + text;
    document.getElementById('log').appendChild(li);
  }

  // The App Engine snippet, unchanged.
  var channel = new goog.appengine.Channel(token);
  var socket = channel.open();
  socket.onopen = function () { log('open', 'socket open'); };
  socket.onmessage = function (m) { log('message', m.data); };
  socket.onerror = function (e) { log('error', e.code + ' ' + e.description); };
  socket.onclose = function () { log('close', 'socket closed'); };

  document.getElementById('send-form').onsubmit = function (event) {
    event.preventDefault();
    var message = document.getElementById('message').value;
    fetch('/send', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, message: message }) })
      .then(function (r) { return r.json(); })
      .then(function (reply) { log('sent', JSON.stringify(reply)); });
  };
</script>
</body>
</html>
""" % {
        "client_id_html": html.escape(client_id),
        "jsapi": html.escape(channeld_http + "/_ah/channel/jsapi"),
        "client_id_json": script_json(client_id),
        "token_json": script_json(token),
    }


def make_handler(channeld_http: str):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != "/":
                return self.reply(404, {"error": "not found"})
            # A new client id per page load; a real app would use its user or session id.
            client_id = "visitor-" + secrets.token_hex(6)
            try:
                token = channel.create_channel(client_id, duration_minutes=60)
            except channel.Error as err:
                return self.reply_error(err)
            self.reply(200, page(channeld_http, client_id, token), "text/html; charset=utf-8")

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/send":
                return self.reply(404, {"error": "not found"})
            try:
                body = self.read_body()
            except ValueError as err:
                return self.reply(400, {"error": "bad request body: %s" % err})
            try:
                channel.send_message(str(body.get("client_id", "")), str(body.get("message", "")))
            except channel.Error as err:
                return self.reply_error(err)
            self.reply(200, {"sent": True})

        def read_body(self) -> dict:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                raise ValueError("body too large")
            text = self.rfile.read(length).decode("utf-8")
            if self.headers.get("content-type", "").startswith("application/json"):
                body = json.loads(text or "{}")
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                return body
            return {key: values[0] for key, values in parse_qs(text).items()}

        def reply_error(self, err: channel.Error) -> None:
            """The caller's mistakes are 400, channeld's trouble (unreachable, refused) 502."""
            status = 502 if type(err) is channel.Error else 400
            self.reply(status, {"error": "%s: %s" % (type(err).__name__, err)})

        def reply(self, status: int, body: object, content_type: str = "application/json; charset=utf-8") -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("cache-control", "no-store")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            print("http: " + format % args, flush=True)

    return Handler


def main() -> None:
    opts = parse_args()
    channeld_http = opts.channeld_http.rstrip("/")
    client = channel.configure(opts.channeld, opts.api_key)
    stopping = threading.Event()
    watcher = threading.Thread(target=watch_presence, args=(client, stopping), daemon=True)
    server = ThreadingHTTPServer((opts.host, opts.port), make_handler(channeld_http))
    print("example backend listening on http://%s:%d (channeld gRPC %s, browsers use %s)"
          % (opts.host, server.server_address[1], opts.channeld, channeld_http), flush=True)
    watcher.start()
    # shutdown() waits for serve_forever to return, so it cannot run on the serving thread.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        server.server_close()
        client.close()  # ends the presence stream


if __name__ == "__main__":
    main()
