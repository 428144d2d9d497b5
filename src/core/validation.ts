import { invalidArgument } from './errors.js';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_DURATION_MINUTES,
  MAX_DELIVERY_TIMEOUT_MS,
  MAX_CLIENT_ID_BYTES,
  MAX_CLIENT_ID_PREFIX_BYTES,
  MAX_DURATION_MINUTES,
  MAX_IDEMPOTENCY_KEY_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_PRESENCE_CURSOR_BYTES,
  MAX_STREAM_BATCH_ITEMS,
  MAX_TOKEN_BYTES,
  MAX_WATCH_CLIENT_IDS,
  MIN_DURATION_MINUTES,
  MAX_TOPIC_BYTES,
  TOPIC_PATTERN,
} from './limits.js';
import type { ClientId, Topic } from './types.js';

// Lone surrogates cannot be encoded as UTF-8; Buffer.byteLength would silently count U+FFFD.
function hasLoneSurrogate(s: string): boolean {
  return !s.isWellFormed();
}

/** A field that may be empty (proto3's unset) but not longer than `maxBytes` of UTF-8. */
function checkOptionalText(field: string, value: string, maxBytes: number): number {
  if (hasLoneSurrogate(value)) throw invalidArgument(`${field} is not valid UTF-8 (it holds a lone surrogate)`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) throw invalidArgument(`${field} is ${bytes} bytes; the limit is ${maxBytes}`);
  return bytes;
}

function checkText(field: string, value: string, maxBytes: number): number {
  if (value === '') throw invalidArgument(`${field} is empty; it must be 1 to ${maxBytes} bytes of UTF-8`);
  return checkOptionalText(field, value, maxBytes);
}

export function validateClientId(clientId: string, field = 'client_id'): ClientId {
  checkText(field, clientId, MAX_CLIENT_ID_BYTES);
  return clientId;
}

export function validateMessage(message: string): string {
  checkText('message', message, MAX_MESSAGE_BYTES);
  return message;
}

export function validateIdempotencyKey(key: string): string | undefined {
  if (key === '') return undefined;
  checkText('idempotency_key', key, MAX_IDEMPOTENCY_KEY_BYTES);
  return key;
}

/** 0 (proto3's unset) means the App Engine default. */
export function validateDuration(minutes: number): number {
  if (minutes === 0) return DEFAULT_DURATION_MINUTES;
  if (!Number.isInteger(minutes) || minutes < MIN_DURATION_MINUTES || minutes > MAX_DURATION_MINUTES) {
    throw invalidArgument(
      `duration_minutes is ${minutes}; it must be ${MIN_DURATION_MINUTES} to ${MAX_DURATION_MINUTES} (or 0 for ${DEFAULT_DURATION_MINUTES})`,
    );
  }
  return minutes;
}

export function validateCount(field: string, count: number, min: number, max: number): void {
  if (count < min || count > max) throw invalidArgument(`${field} has ${count} items; it must have ${min} to ${max}`);
}

export function validateTopic(topic: string, field = 'topic'): Topic {
  const bytes = Buffer.byteLength(topic, 'utf8');
  if (bytes === 0) throw invalidArgument(`${field} is empty; it must be 1 to ${MAX_TOPIC_BYTES} bytes`);
  if (bytes > MAX_TOPIC_BYTES) throw invalidArgument(`${field} is ${bytes} bytes; the limit is ${MAX_TOPIC_BYTES}`);
  if (!TOPIC_PATTERN.test(topic)) {
    throw invalidArgument(`${field} ${JSON.stringify(topic.slice(0, 40))} may hold only letters, digits and . _ - : / @`);
  }
  return topic;
}

/** A SendMessage target token: not parsed here, only bounded (the token check itself is the core's). */
export function validateToken(token: string): string {
  if (token === '') throw invalidArgument('token is empty');
  checkOptionalText('token', token, MAX_TOKEN_BYTES);
  return token;
}

/** WatchPresence.client_id_prefix; empty means every client id. */
export function validateClientIdPrefix(prefix: string): string {
  checkOptionalText('client_id_prefix', prefix, MAX_CLIENT_ID_PREFIX_BYTES);
  return prefix;
}

/** WatchPresence.client_ids: how many (each is checked as a client id). Empty means every client id. */
export function validateWatchClientIds(clientIds: readonly string[]): void {
  validateCount('client_ids', clientIds.length, 0, MAX_WATCH_CLIENT_IDS);
}

/** WatchPresence.cursor: opaque, only bounded; empty means no resume. */
export function validatePresenceCursor(cursor: string): string {
  checkOptionalText('cursor', cursor, MAX_PRESENCE_CURSOR_BYTES);
  return cursor;
}

/** SendMessage.delivery_timeout in ms (undefined: unset); returns the wait to apply. */
export function validateDeliveryTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_DELIVERY_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_DELIVERY_TIMEOUT_MS) {
    throw invalidArgument(`delivery_timeout is ${timeoutMs} ms; it must be 1 ms to ${MAX_DELIVERY_TIMEOUT_MS / 1000} s`);
  }
  return Math.ceil(timeoutMs);
}

/** StreamMessagesRequest.requests, when set. */
export function validateStreamBatch(count: number): void {
  validateCount('requests', count, 1, MAX_STREAM_BATCH_ITEMS);
}
