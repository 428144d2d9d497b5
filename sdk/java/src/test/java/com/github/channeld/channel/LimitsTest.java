package com.github.channeld.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** App Engine's checks, the token shape rule and where settings come from; no server needed. */
class LimitsTest {
  /** Never connects: every check here must fail before a call. */
  private final ChannelClient client = ChannelClient.builder().address("127.0.0.1:1").apiKey("").build();

  @Test
  void clientIdsOver256BytesAreRefusedWithAppEnginesText() {
    Limits.checkClientId("x".repeat(256));
    Limits.checkClientId("\u00e9".repeat(128));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.createChannel("\u00e9".repeat(128) + "x"));
    assertEquals("Invalid client ID. The clientid must be fewer than 256 bytes when encoded to UTF-8.", e.getMessage());
    // Not shaped like a token (a space), so it cannot be one: refused before any call.
    e = assertThrows(IllegalArgumentException.class, () -> client.sendMessage(new ChannelMessage(" ".repeat(257), "hi")));
    assertEquals(Limits.CLIENT_ID_TOO_LONG, e.getMessage());
  }

  @Test
  void messagesOver32767BytesAreRefusedWithAppEnginesText() {
    Limits.checkMessage("m".repeat(32767));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.sendMessage(new ChannelMessage("a b", "\u20ac".repeat(10923))));
    assertEquals("The message must be fewer than 32767 bytes when encoded to UTF-8.", e.getMessage());
  }

  @Test
  void durationsOutside1To1440AreRefusedWithAppEnginesText() {
    Limits.checkDuration(1);
    Limits.checkDuration(1440);
    for (int bad : new int[] {0, -1, 1441, Integer.MIN_VALUE}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.createChannel("user", bad));
      assertEquals("The channel token duration must be greater than 0 and less than 24 * 60.", e.getMessage());
    }
  }

  @Test
  void nullsAndUnpairedSurrogatesAreRefused() {
    assertThrows(NullPointerException.class, () -> client.createChannel(null));
    assertThrows(NullPointerException.class, () -> client.sendMessage(null));
    assertThrows(NullPointerException.class, () -> client.sendMessage(new ChannelMessage("a b", null)));
    assertThrows(IllegalArgumentException.class, () -> client.createChannel("half \ud83d"));
    assertThrows(IllegalArgumentException.class, () -> client.sendMessage(new ChannelMessage("a b", "\udc00 half")));
    assertEquals(4, Limits.utf8Length("\ud83d\ude00"));
    assertEquals(-1, Limits.utf8Length("\ude00\ud83d"));
  }

  @Test
  void onlyTheTokenAlphabetCanBeAToken() {
    assertTrue(NotTokens.couldBeToken("AQAAAZ-x_y.Zz09"));
    assertTrue(NotTokens.couldBeToken("user42"));
    for (String id : new String[] {"", "user 42", "a@b.c", "x/y", "t=1", "caf\u00e9", "a+b"}) {
      assertFalse(NotTokens.couldBeToken(id), id);
    }
  }

  @Test
  void notTokensForgetsAfterItsTimeAndDropsTheLeastRecentlyUsed() {
    AtomicLong now = new AtomicLong();
    NotTokens cache = new NotTokens(2, 100, now::get);
    cache.add("a");
    cache.add("b");
    assertTrue(cache.contains("a"));
    cache.add("c"); // "b" was used least recently
    assertFalse(cache.contains("b"));
    assertTrue(cache.contains("a"));
    now.set(101);
    assertFalse(cache.contains("a"));
    assertFalse(cache.contains("c"));
  }

  @Test
  void settingsComeFromTheCallerThenPropertiesThenTheEnvironment() {
    Map<String, String> props = Map.of("channeld.grpc.addr", "prop:1", "channeld.api.key", "prop-key");
    Map<String, String> env = Map.of("CHANNELD_GRPC_ADDR", "env:2", "CHANNELD_API_KEY", "env-key");
    assertEquals(new Settings("given:3", "given-key"), Settings.resolve("given:3", "given-key", props::get, env::get));
    assertEquals(new Settings("prop:1", "prop-key"), Settings.resolve(null, null, props::get, env::get));
    assertEquals(new Settings("env:2", "env-key"), Settings.resolve(null, null, k -> null, env::get));
    assertEquals(new Settings("env:2", "env-key"), Settings.resolve("", null, k -> "", env::get));
    assertEquals(new Settings("127.0.0.1:50051", ""), Settings.resolve(null, null, k -> null, k -> null));
    assertEquals("", Settings.resolve(null, "", props::get, env::get).apiKey(), "an explicit empty key means none");
  }
}
