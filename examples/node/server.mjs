#!/usr/bin/env node
// A tiny web backend using channeld the way an App Engine app used the Channel API:
//   GET  /      mints a token for the visitor and serves a page that opens goog.appengine.Channel
//   POST /send  sends a message to a client id ({"client_id": "...", "message": "..."}, JSON or form)
// and prints every presence change it hears from WatchPresence.
//
//   node examples/node/server.mjs [--port 3000] [--channeld 127.0.0.1:50051]
//       [--channeld-http http://localhost:8080] [--api-key KEY] [--proto DIR]
//
// Copy it into your project: npm install @grpc/grpc-js @grpc/proto-loader, and copy proto/.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const env = process.env;
const { values: opts } = parseArgs({
  options: {
    host: { type: 'string', default: env.HOST ?? '127.0.0.1' },
    port: { type: 'string', default: env.PORT ?? '3000' },
    // Where this backend reaches channeld's gRPC API.
    channeld: { type: 'string', default: env.CHANNELD_GRPC_ADDR ?? '127.0.0.1:50051' },
    // Where browsers reach channeld's HTTP/WebSocket side (it serves /_ah/channel/jsapi).
    'channeld-http': { type: 'string', default: env.CHANNELD_HTTP_URL ?? 'http://localhost:8080' },
    'api-key': { type: 'string', default: env.CHANNELD_API_KEY ?? '' },
    proto: { type: 'string', default: env.CHANNELD_PROTO ?? fileURLToPath(new URL('../../proto', import.meta.url)) },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log('usage: node examples/node/server.mjs [--host H] [--port P] [--channeld HOST:PORT] [--channeld-http URL] [--api-key KEY] [--proto DIR]');
  console.log('env:   HOST PORT CHANNELD_GRPC_ADDR CHANNELD_HTTP_URL CHANNELD_API_KEY CHANNELD_PROTO');
  process.exit(0);
}
const channeldHttp = opts['channeld-http'].replace(/\/+$/, '');

// ---- the gRPC client -----------------------------------------------------------------------------

const definition = protoLoader.loadSync('channel/v1/channel.proto', {
  includeDirs: [opts.proto],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { ChannelService } = grpc.loadPackageDefinition(definition).channel.v1;
const channeld = new ChannelService(opts.channeld, grpc.credentials.createInsecure());

/** Metadata for every call: the API key, when channeld has keys configured. */
function metadata() {
  const md = new grpc.Metadata();
  if (opts['api-key'] !== '') md.set('authorization', `Bearer ${opts['api-key']}`);
  return md;
}

/** One unary call as a promise: call('CreateChannel', { client_id: 'x' }). */
function call(method, request) {
  return new Promise((resolve, reject) => {
    channeld[method](request, metadata(), { deadline: Date.now() + 10_000 }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

// ---- presence: print every change, resume after a broken stream ----------------------------------

let presenceCursor = '';
let presenceRetryMs = 500;
let stopping = false;

function watchPresence() {
  const stream = channeld.WatchPresence({ snapshot: presenceCursor === '', cursor: presenceCursor }, metadata());
  stream.on('data', (response) => {
    presenceRetryMs = 500;
    if (response.snapshot_complete) {
      presenceCursor = response.snapshot_complete.cursor || presenceCursor;
      console.log('presence: watching');
      return;
    }
    const e = response.event;
    presenceCursor = e.cursor;
    const state = e.state.replace('PRESENCE_STATE_', '');
    const reason = e.reason.replace('PRESENCE_REASON_', '').toLowerCase();
    console.log(`presence: ${e.client_id} ${state} (${reason})`);
  });
  stream.on('error', (err) => {
    if (stopping) return;
    console.error(`presence: stream failed (${grpc.status[err.code]}: ${err.details}); retrying in ${presenceRetryMs} ms`);
    setTimeout(watchPresence, presenceRetryMs).unref();
    presenceRetryMs = Math.min(presenceRetryMs * 2, 30_000);
  });
  stream.on('end', () => {
    // channeld ends streams when it shuts down; the next node (or the restarted one) takes over.
    if (!stopping) setTimeout(watchPresence, presenceRetryMs).unref();
  });
}

// ---- the web side --------------------------------------------------------------------------------

/** JSON that is safe inside a <script> element. */
function scriptJson(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(clientId, token) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>channeld example</title>
<style>body { font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; } li { font-family: monospace; }</style>
</head>
<body>
<h1>channeld example</h1>
<p>You are <code id="client-id">${escapeHtml(clientId)}</code>.</p>
<form id="send-form">
  <input id="message" name="message" value="Hello!" autocomplete="off">
  <button type="submit" id="send">Send it to me through channeld</button>
</form>
<ol id="log"></ol>

<script src="${escapeHtml(channeldHttp)}/_ah/channel/jsapi"></script>
<script>
  var clientId = ${scriptJson(clientId)};
  var token = ${scriptJson(token)};
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
`;
}

function reply(res, status, body, type = 'application/json; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A gRPC failure as an HTTP answer: the caller's mistakes are 400, channeld's trouble 502. */
function replyError(res, err) {
  const code = grpc.status[err.code] ?? 'UNKNOWN';
  const ours = err.code === grpc.status.INVALID_ARGUMENT || err.code === grpc.status.FAILED_PRECONDITION;
  reply(res, ours ? 400 : 502, { error: `${code}: ${err.details ?? err.message}` });
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) return JSON.parse(text || '{}');
  return Object.fromEntries(new URLSearchParams(text));
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/') {
    // A new client id per page load; a real app would use its user or session id.
    const clientId = `visitor-${randomBytes(6).toString('hex')}`;
    try {
      const { token } = await call('CreateChannel', { client_id: clientId, duration_minutes: 60 });
      reply(res, 200, page(clientId, token), 'text/html; charset=utf-8');
    } catch (err) {
      replyError(res, err);
    }
    return;
  }
  if (req.method === 'POST' && url.pathname === '/send') {
    let body;
    try {
      body = await readBody(req);
    } catch (err) {
      reply(res, 400, { error: `bad request body: ${err.message}` });
      return;
    }
    try {
      const sent = await call('SendMessage', { client_id: String(body.client_id ?? ''), message: String(body.message ?? '') });
      reply(res, 200, { seq: sent.seq, epoch: sent.epoch, connected: sent.connected });
    } catch (err) {
      replyError(res, err);
    }
    return;
  }
  reply(res, 404, { error: 'not found' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => reply(res, 500, { error: String(err) }));
});
server.listen(Number(opts.port), opts.host, () => {
  const { port } = server.address();
  console.log(`example backend listening on http://${opts.host}:${port} (channeld gRPC ${opts.channeld}, browsers use ${channeldHttp})`);
  watchPresence();
});

function stop() {
  stopping = true;
  channeld.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
