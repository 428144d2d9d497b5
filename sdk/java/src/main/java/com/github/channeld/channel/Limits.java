package com.github.channeld.channel;

/**
 * App Engine's limits and the texts of the {@link IllegalArgumentException}s it threw for them,
 * checked before any call as App Engine did. channeld enforces the same limits.
 */
final class Limits {
  static final int MAXIMUM_CLIENT_ID_BYTES = 256;
  static final int MAXIMUM_MESSAGE_BYTES = 32767;
  static final int MAXIMUM_TOKEN_DURATION_MINUTES = 24 * 60;

  static final String CLIENT_ID_TOO_LONG =
      "Invalid client ID. The clientid must be fewer than 256 bytes when encoded to UTF-8.";
  static final String MESSAGE_TOO_LONG =
      "The message must be fewer than 32767 bytes when encoded to UTF-8.";
  static final String BAD_DURATION =
      "The channel token duration must be greater than 0 and less than 24 * 60.";

  private Limits() {}

  /** The UTF-8 length of {@code text}, or -1 when it holds an unpaired surrogate. */
  static int utf8Length(String text) {
    int bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        return -1;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /**
   * The client id's UTF-8 length. An unpaired surrogate is refused: protobuf would send it as
   * '?', and the message would go to another client id.
   */
  static int clientIdBytes(String clientId) {
    if (clientId == null) {
      throw new NullPointerException("clientId");
    }
    int bytes = utf8Length(clientId);
    if (bytes < 0) {
      throw new IllegalArgumentException("Invalid client ID. The clientid is not valid Unicode text (an unpaired surrogate).");
    }
    return bytes;
  }

  static void checkClientId(String clientId) {
    if (clientIdBytes(clientId) > MAXIMUM_CLIENT_ID_BYTES) {
      throw new IllegalArgumentException(CLIENT_ID_TOO_LONG);
    }
  }

  static void checkMessage(String message) {
    if (message == null) {
      throw new NullPointerException("message");
    }
    int bytes = utf8Length(message);
    if (bytes < 0) {
      throw new IllegalArgumentException("The message is not valid Unicode text (an unpaired surrogate).");
    }
    if (bytes > MAXIMUM_MESSAGE_BYTES) {
      throw new IllegalArgumentException(MESSAGE_TOO_LONG);
    }
  }

  static void checkDuration(int durationMinutes) {
    if (durationMinutes <= 0 || durationMinutes > MAXIMUM_TOKEN_DURATION_MINUTES) {
      throw new IllegalArgumentException(BAD_DURATION);
    }
  }
}
