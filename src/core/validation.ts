import { invalidArgument } from './errors.js';
import {
  DEFAULT_DURATION_MINUTES,
  MAX_CLIENT_ID_BYTES,
  MAX_DURATION_MINUTES,
  MAX_IDEMPOTENCY_KEY_BYTES,
  MAX_MESSAGE_BYTES,
  MIN_DURATION_MINUTES,
  MAX_TOPIC_BYTES,
  TOPIC_PATTERN,
} from './limits.js';
import type { ClientId, Topic } from './types.js';

// Lone surrogates cannot be encoded as UTF-8; Buffer.byteLength would silently count U+FFFD.
function hasLoneSurrogate(s: string): boolean {
  return !s.isWellFormed();
}

function checkText(field: string, value: string, maxBytes: number): number {
  if (hasLoneSurrogate(value)) throw invalidArgument(`${field} is not valid UTF-8 (it holds a lone surrogate)`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes === 0) throw invalidArgument(`${field} is empty; it must be 1 to ${maxBytes} bytes of UTF-8`);
  if (bytes > maxBytes) throw invalidArgument(`${field} is ${bytes} bytes; the limit is ${maxBytes}`);
  return bytes;
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
