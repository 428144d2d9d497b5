import test from 'ava';
import { errorForCloseCode, isTerminalCloseCode } from '../src/client/close-codes.js';
import { decodeServerFrame, encodeAck, encodeTopicResume, FrameType } from '../src/client/frames.js';

test('client frames - decodes a welcome', (t) => {
  t.deepEqual(decodeServerFrame('[0,"k3J9qv",2,true]'), { type: FrameType.WELCOME, epoch: 'k3J9qv', seq: 2, recovered: true });
});

test('client frames - decodes a message, data kept as the exact string', (t) => {
  t.deepEqual(decodeServerFrame('[1,2,"{\\"n\\":2}"]'), { type: FrameType.MESSAGE, seq: 2, data: '{"n":2}' });
});

test('client frames - decodes topic message, topic welcome and topic left', (t) => {
  t.deepEqual(decodeServerFrame('[2,"news",8,"{\\"h\\":1}"]'), { type: FrameType.TOPIC_MESSAGE, topic: 'news', seq: 8, data: '{"h":1}' });
  t.deepEqual(decodeServerFrame('[4,"news","Zq0b",7,true]'), { type: FrameType.TOPIC_WELCOME, topic: 'news', epoch: 'Zq0b', seq: 7, recovered: true });
  t.deepEqual(decodeServerFrame('[6,"news"]'), { type: FrameType.TOPIC_LEFT, topic: 'news' });
});

test('client frames - tolerates trailing elements added by a later server', (t) => {
  t.deepEqual(decodeServerFrame('[1,3,"x","extra"]'), { type: FrameType.MESSAGE, seq: 3, data: 'x' });
});

test('client frames - reports unknown types as unknown, not malformed', (t) => {
  t.deepEqual(decodeServerFrame('[7,"whatever"]'), { type: 'unknown', frameType: 7 });
});

test('client frames - rejects malformed frames', (t) => {
  for (const text of [
    '',
    'not json',
    '{}',
    '[]',
    '"0"',
    '["0","e",0,true]',
    '[0.5]',
    '[-1]',
    '[0,"",0,true]',
    '[0,"e",-1,true]',
    '[0,"e",1.5,true]',
    '[0,"e",1,"true"]',
    '[0,"e",1]',
    '[0,7,1,true]',
    '[1,0,"zero is never a message seq"]',
    '[1,"1","x"]',
    '[1,1]',
    '[1,1,{"not":"a string"}]',
    '[1,9007199254740992,"x"]',
    '[3,1]',
    '[2,"",1,"x"]',
    '[2,"news",0,"x"]',
    '[2,"news","1","x"]',
    '[2,7,1,"x"]',
    '[2,"news",1]',
    '[4,"news","",0,true]',
    '[4,"news","e",0]',
    '[4,"","e",0,true]',
    '[4,"news","e",-1,true]',
    '[5,[["news","e",1]]]',
    '[6]',
    '[6,""]',
    '[6,7]',
  ]) {
    t.is(decodeServerFrame(text), undefined, text);
  }
});

test('client frames - encodes acks', (t) => {
  t.is(encodeAck(0), '[3,0]');
  t.is(encodeAck(42), '[3,42]');
  t.throws(() => encodeAck(-1), { instanceOf: RangeError });
  t.throws(() => encodeAck(1.5), { instanceOf: RangeError });
  t.is(encodeAck(8, 'news'), '[3,8,"news"]');
});

test('client frames - encodes the topic resume frame', (t) => {
  t.is(encodeTopicResume([['news', 'Zq0b', 7], ['a/b', 'e', 0]]), '[5,[["news","Zq0b",7],["a/b","e",0]]]');
});

test('client close codes - 4500–4999 are terminal, the rest reconnect', (t) => {
  for (const code of [4500, 4501, 4502, 4503, 4504, 4999]) t.true(isTerminalCloseCode(code), String(code));
  for (const code of [1000, 1001, 1006, 1011, 4000, 4001, 4499, 5000]) t.false(isTerminalCloseCode(code), String(code));
});

test('client close codes - App Engine errors per protocol §4', (t) => {
  t.deepEqual(errorForCloseCode(4500, 'Invalid+token.'), { code: 401, description: 'Invalid+token.' });
  t.deepEqual(errorForCloseCode(4501, ''), { code: 401, description: 'Token+timed+out.' });
  t.deepEqual(errorForCloseCode(4502, ''), { code: 409, description: 'Replaced+by+newer+socket.' });
  t.deepEqual(errorForCloseCode(4503, ''), { code: 410, description: 'Channel+closed.' });
  t.deepEqual(errorForCloseCode(4504, ''), { code: 400, description: 'Protocol+error.' });
  t.deepEqual(errorForCloseCode(4599, 'Brand+new.'), { code: 500, description: 'Brand+new.' });
  t.deepEqual(errorForCloseCode(4599, ''), { code: 500, description: 'Unknown+error.' });
  for (const code of [1000, 1001, 1006, 4001]) t.is(errorForCloseCode(code, 'x'), undefined, String(code));
});
