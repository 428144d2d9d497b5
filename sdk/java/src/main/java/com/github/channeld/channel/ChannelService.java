package com.github.channeld.channel;

import java.io.IOException;
import javax.servlet.http.HttpServletRequest;

/**
 * App Engine's {@code com.google.appengine.api.channel.ChannelService}, backed by channeld: mint
 * tokens for browser clients and push messages to them. Get one from {@link
 * ChannelServiceFactory#getChannelService()}, or build a {@link ChannelClient}.
 *
 * <p>Bad arguments throw {@link IllegalArgumentException} with App Engine's texts; a failed call
 * (channeld unreachable, a wrong API key, a deadline) throws {@link ChannelFailureException}.
 */
public interface ChannelService {

  /**
   * Creates a channel for {@code clientId} and returns the token its browser opens the channel
   * with, valid for channeld's default of 120 minutes. Each call mints a new, independent token.
   *
   * @param clientId the application's name for one browser client: at most 256 bytes of UTF-8
   * @throws IllegalArgumentException if {@code clientId} is too long or refused by channeld
   * @throws ChannelFailureException if the call fails
   */
  String createChannel(String clientId);

  /**
   * {@link #createChannel(String)} with the token's lifetime.
   *
   * @param durationMinutes 1 to 1440 (24 * 60)
   * @throws IllegalArgumentException if {@code durationMinutes} is out of range, or as above
   */
  String createChannel(String clientId, int durationMinutes);

  /**
   * Sends a message to a client's channel. Like App Engine it does not fail because nobody is
   * listening: channeld keeps the message for the client's next socket.
   *
   * <p>{@link ChannelMessage#getClientId()} may also be a token returned by {@link
   * #createChannel(String)}, as App Engine allowed: the message then goes to that token's client.
   * channeld decides whether the string is one of its tokens; a message for an expired or revoked
   * token is dropped silently, as App Engine dropped messages it could not deliver.
   *
   * @throws IllegalArgumentException if the client id or the message (at most 32767 bytes of
   *     UTF-8) is refused
   * @throws ChannelFailureException if the call fails
   */
  void sendMessage(ChannelMessage message);

  /**
   * Reads a message from a request carrying {@code key} (the client id) and {@code msg}
   * parameters, as App Engine's did. channeld itself never posts such requests.
   *
   * @throws IllegalStateException if a parameter is missing
   */
  default ChannelMessage parseMessage(HttpServletRequest request) {
    return PresenceParser.parseMessage(request.getParameter("key"), request.getParameter("msg"));
  }

  /**
   * Reads the presence notice channeld's {@code --presence-webhook} POSTs to {@code
   * /_ah/channel/connected/} and {@code /_ah/channel/disconnected/}: the request's path says
   * which, its {@code multipart/form-data} field {@code from} holds the client id.
   *
   * @throws IllegalArgumentException if the path or the body is not a presence notice
   * @throws IOException if the body cannot be read or is not valid multipart
   */
  default ChannelPresence parsePresence(HttpServletRequest request) throws IOException {
    return PresenceParser.parse(request.getRequestURI(), request.getContentType(), request.getInputStream());
  }
}
