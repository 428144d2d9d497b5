import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { PythonProcess, ROOT, pythonAvailability } from './helpers/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const API_KEY = 'python-example-key-0123456789';
const availability = pythonAvailability();

if (!availability.run && availability.fail) {
  test('example python - the Python toolchain is installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING Python example tests: ${availability.why} !!!\n`);
}
const pythonTest = availability.run ? test.serial : test.skip;

let ts: TestServer | undefined;
let example: PythonProcess | undefined;
let url = '';

test.before(async () => {
  if (!availability.run) return;
  // channeld serves /_ah/channel/jsapi from the built browser client.
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { cwd: ROOT, stdio: 'ignore' });
  ts = await startTestServer({ apiKeys: [API_KEY] });
  // As a user runs it: no PYTHONPATH, the example finds gen/python and sdk/python itself.
  example = new PythonProcess(
    join(ROOT, 'examples', 'python', 'app.py'),
    ['--port', '0', '--channeld', `127.0.0.1:${ts.server.grpcPort}`, '--channeld-http', ts.httpUrl],
    { CHANNELD_API_KEY: API_KEY },
  );
  url = (await example.untilText(/listening on (http:\/\/\S+)/))[1]!;
  // The presence watch is live once its snapshot is in, so no later change can be missed.
  await example.untilText(/^presence: watching$/);
});

test.after.always(async () => {
  await example?.stop();
  await ts?.close();
});

function mustHave<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('test.before did not start channeld and the example');
  return value;
}

function postSend(body: Record<string, string>): Promise<Response> {
  return fetch(`${url}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

pythonTest('example python - the page loads jsapi from channeld, its token opens a socket, /send reaches it, presence is printed', async (t) => {
  const server = mustHave(ts);
  const py = mustHave(example);
  const res = await fetch(`${url}/`);
  const html = await res.text();
  t.is(res.status, 200, html);
  t.true(html.includes(`<script src="${server.httpUrl}/_ah/channel/jsapi"></script>`), 'the script tag points at channeld');
  t.true(html.includes('var channel = new goog.appengine.Channel(token);'), 'the App Engine snippet');
  const clientId = /var clientId = "([^"]+)";/.exec(html)?.[1];
  const token = /var token = "([^"]+)";/.exec(html)?.[1];
  if (clientId === undefined || token === undefined) return t.fail(`no client id or token in the page: ${html}`);

  const socket = new RawSocket(server.wsUrl, token);
  t.teardown(() => socket.close());
  await socket.until(() => socket.welcome !== undefined || socket.closeCode !== undefined, 'the welcome');
  t.not(socket.welcome, undefined, `socket refused: ${socket.closeCode} ${socket.closeReason}`);
  await py.untilText(new RegExp(`^presence: ${clientId} CONNECTED \\(socket_opened\\)$`));

  const sent = await postSend({ client_id: clientId, message: '{"hello":"from python"}' });
  t.deepEqual(await sent.json(), { sent: true });
  await socket.untilMessages(1);
  t.deepEqual(socket.messages, [{ seq: 1, data: '{"hello":"from python"}' }]);

  socket.close();
  await socket.closed;
  await py.untilText(new RegExp(`^presence: ${clientId} DISCONNECTED \\(socket_closed\\)$`));
});

pythonTest('example python - /send answers 400 with App Engine exception names for bad input', async (t) => {
  const tooLong = await postSend({ client_id: 'someone', message: 'x'.repeat(32768) });
  t.is(tooLong.status, 400);
  t.deepEqual(await tooLong.json(), { error: 'InvalidMessageError: Message must be no longer than 32767 chars' });
  const empty = await postSend({ client_id: '', message: 'hi' });
  t.is(empty.status, 400);
  t.regex(((await empty.json()) as { error: string }).error, /^InvalidChannelClientIdError: client_id is empty/);
});

pythonTest('example python - SIGTERM stops it cleanly', async (t) => {
  t.is(await mustHave(example).stop(), 0);
});
