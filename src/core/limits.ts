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
/**
 * Tokens are opaque to backends, but the longest one ever minted (a version 1 token for a 256-byte
 * client id) is 430 bytes, a version 2 one 402: anything longer cannot be a token.
 */
export const MAX_TOKEN_BYTES = 512;
/** A prefix longer than the longest client id could match nothing. */
export const MAX_CLIENT_ID_PREFIX_BYTES = MAX_CLIENT_ID_BYTES;
/** WatchPresence.client_ids, as many as one GetPresence may ask about. */
export const MAX_WATCH_CLIENT_IDS = MAX_PRESENCE_QUERY_IDS;
/**
 * Presence and receipt cursors are engine positions (`1718000000000-12`, `<epoch>.<n>`); a
 * partitioned Redis engine's hold one per partition (`3:1718000000000-12,…`), ~42 bytes each for
 * up to MAX_REDIS_PARTITIONS.
 */
export const MAX_PRESENCE_CURSOR_BYTES = 16_384;
/** A topic's presence cursor is one position: its topic lives in one partition. */
export const MAX_TOPIC_PRESENCE_CURSOR_BYTES = 128;
/** Partitions (shards, or a Redis Cluster's hash tags) a Redis engine's state may be spread over. */
export const MAX_REDIS_PARTITIONS = 256;
/** SendMessage.delivery_timeout: how long a call may wait for the browser's acknowledgement. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
export const MAX_DELIVERY_TIMEOUT_MS = 300_000;
/** GetDelivery.client_ids, as many as one GetPresence may ask about. */
export const MAX_DELIVERY_QUERY_IDS = MAX_PRESENCE_QUERY_IDS;
/** Items of one StreamMessages request, as in one SendMessages call. */
export const MAX_STREAM_BATCH_ITEMS = MAX_BATCH_ITEMS;
/**
 * The largest gRPC request taken at all (grpc.max_receive_message_length): a SendMessages (or
 * StreamMessages batch) of MAX_BATCH_ITEMS items that each hold the longest token, message and
 * idempotency key, plus room for framing. Larger requests are RESOURCE_EXHAUSTED before decoding.
 */
export const MAX_REQUEST_BYTES = MAX_BATCH_ITEMS * (MAX_MESSAGE_BYTES + 1024) + 65_536;
/** SubscribeRequest.info: a small member record (a display name, an avatar URL), not a document. */
export const MAX_TOPIC_MEMBER_INFO_BYTES = 1024;
/** GetTopicMembers.page_size when unset, and its most. */
export const DEFAULT_TOPIC_MEMBERS_PAGE = 100;
export const MAX_TOPIC_MEMBERS_PAGE = 1000;
/** A page token holds one client id (≤ 256 bytes) in base64url, with a version mark. */
export const MAX_PAGE_TOKEN_BYTES = 512;
