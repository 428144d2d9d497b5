import test from 'ava';
import { backoffDelayMs, DEFAULT_MAX_DELAY_MS } from '../src/client/backoff.js';
import { baseUrlFromScriptSrc, channelSocketUrl, isWellFormedToken } from '../src/client/url.js';

test('client url - socket URL from http and https bases, no query on a fresh open', (t) => {
  t.is(channelSocketUrl('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/_ah/channel/ws');
  t.is(channelSocketUrl('https://example.com/'), 'wss://example.com/_ah/channel/ws');
  t.is(channelSocketUrl('wss://example.com'), 'wss://example.com/_ah/channel/ws');
});

test('client url - keeps a path prefix and drops query and fragment of the base', (t) => {
  t.is(channelSocketUrl('https://example.com/rt/?x=1#y'), 'wss://example.com/rt/_ah/channel/ws');
});

test('client url - resume position goes in the query, URL-encoded', (t) => {
  t.is(channelSocketUrl('http://h:1', { epoch: 'k3J9qv', seq: 2 }), 'ws://h:1/_ah/channel/ws?epoch=k3J9qv&seq=2');
  t.is(channelSocketUrl('http://h:1', { epoch: 'a&b', seq: 0 }), 'ws://h:1/_ah/channel/ws?epoch=a%26b&seq=0');
});

test('client url - topics=1 announces a topic resume frame', (t) => {
  t.is(channelSocketUrl('http://h:1', { epoch: 'e', seq: 2, topics: true }), 'ws://h:1/_ah/channel/ws?epoch=e&seq=2&topics=1');
  t.is(channelSocketUrl('http://h:1', { epoch: 'e', seq: 2, topics: false }), 'ws://h:1/_ah/channel/ws?epoch=e&seq=2');
});

test('client url - refuses bases that are not http(s) or ws(s)', (t) => {
  t.throws(() => channelSocketUrl('ftp://example.com'), { instanceOf: TypeError });
  t.throws(() => channelSocketUrl('not a url'), { instanceOf: TypeError });
});

test('client url - base URL from the jsapi script address', (t) => {
  t.is(baseUrlFromScriptSrc('http://127.0.0.1:8080/_ah/channel/jsapi'), 'http://127.0.0.1:8080');
  t.is(baseUrlFromScriptSrc('https://example.com/_ah/channel/jsapi?v=3'), 'https://example.com');
  t.is(baseUrlFromScriptSrc('https://example.com/rt/_ah/channel/jsapi'), 'https://example.com/rt');
  t.is(baseUrlFromScriptSrc('https://cdn.example.com/static/channel.js'), 'https://cdn.example.com');
});

test('client url - well-formed tokens', (t) => {
  t.true(isWellFormedToken('AQAAAZ-abc_DEF.0123456789'));
  for (const bad of ['', 'a b', 'a,b', 'a/b', 'é', 'a\nb']) t.false(isWellFormedToken(bad), JSON.stringify(bad));
});

test('client backoff - full jitter under an exponential ceiling, capped low', (t) => {
  const top = () => 0.999999;
  t.is(backoffDelayMs(0, {}, () => 0), 0);
  t.is(backoffDelayMs(0, {}, top), 249);
  t.is(backoffDelayMs(1, {}, top), 499);
  // A long outage never stretches the wait beyond the cap: the client is back soon after the network.
  for (const attempt of [2, 3, 20, 10_000]) t.is(backoffDelayMs(attempt, {}, top), DEFAULT_MAX_DELAY_MS - 1, `attempt ${attempt}`);
  t.is(DEFAULT_MAX_DELAY_MS, 1000);
  t.is(backoffDelayMs(2, { baseDelayMs: 10, maxDelayMs: 25 }, top), 24);
  t.is(backoffDelayMs(20, { maxDelayMs: 30_000 }, top), 29999, 'a longer cap can still be chosen');
  const samples = Array.from({ length: 200 }, () => backoffDelayMs(40));
  t.true(samples.every((ms) => ms >= 0 && ms < DEFAULT_MAX_DELAY_MS));
  t.true(new Set(samples).size > 50, 'delays are spread, not fixed: no reconnect herd');
});
