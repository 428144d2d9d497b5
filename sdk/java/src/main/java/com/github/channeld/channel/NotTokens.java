package com.github.channeld.channel;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Strings channeld said are not its tokens, so a client id shaped like a token costs the extra
 * SendMessage only once in a while instead of on every send. Bounded, least recently used first
 * out; an answer is trusted for a limited time only, because during a rolling rotation of
 * channeld's token secrets a node may not know a token minted by another yet.
 */
final class NotTokens {
  private final int capacity;
  private final long ttlNanos;
  private final LongSupplier clock;
  private final LinkedHashMap<String, Long> seen;

  NotTokens(int capacity, long ttlNanos, LongSupplier clock) {
    this.capacity = capacity;
    this.ttlNanos = ttlNanos;
    this.clock = clock;
    this.seen = new LinkedHashMap<>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > NotTokens.this.capacity;
      }
    };
  }

  synchronized boolean contains(String value) {
    Long at = seen.get(value);
    if (at == null) {
      return false;
    }
    if (clock.getAsLong() - at > ttlNanos) {
      seen.remove(value);
      return false;
    }
    return true;
  }

  synchronized void add(String value) {
    seen.put(value, clock.getAsLong());
  }

  /**
   * Whether {@code value} can be a token at all: tokens use only A-Z a-z 0-9 - _ . (the wire
   * protocol's promise, so they fit a WebSocket subprotocol name). Anything else is a client id
   * and needs no question to channeld.
   */
  static boolean couldBeToken(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
