/** App Engine's limits, kept exactly so migrated apps behave the same. */
export const MAX_CLIENT_ID_BYTES = 256;
export const MAX_MESSAGE_BYTES = 32767;
export const DEFAULT_DURATION_MINUTES = 120;
export const MIN_DURATION_MINUTES = 1;
export const MAX_DURATION_MINUTES = 1440;

/** Our own limits. */
export const MAX_BATCH_ITEMS = 1000;
export const MAX_PRESENCE_QUERY_IDS = 1000;
export const MAX_IDEMPOTENCY_KEY_BYTES = 128;
export const MAX_TOPIC_BYTES = 128;
/** Letters, digits and . _ - : / @ — safe in logs, URLs, Redis keys and uWS topic names. */
export const TOPIC_PATTERN = /^[A-Za-z0-9._\-:/@]+$/;
export const MAX_TOPICS_PER_CLIENT = 64;
export const MAX_BROADCAST_CLIENT_IDS = 10_000;
export const MAX_BROADCAST_TOPICS = 100;
export const MAX_SUBSCRIBE_CLIENT_IDS = 10_000;
