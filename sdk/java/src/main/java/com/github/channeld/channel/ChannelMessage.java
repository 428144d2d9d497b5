package com.github.channeld.channel;

/** A message for one client, as in App Engine: {@code new ChannelMessage(clientId, message)}. */
public final class ChannelMessage {
  private final String clientId;
  private final String message;

  /**
   * @param clientId the client id, or a token returned by {@link ChannelService#createChannel}
   * @param message at most 32767 bytes of UTF-8, usually JSON
   */
  public ChannelMessage(String clientId, String message) {
    this.clientId = clientId;
    this.message = message;
  }

  public String getClientId() {
    return clientId;
  }

  public String getMessage() {
    return message;
  }
}
