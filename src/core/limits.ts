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
