package com.github.channeld.channel;

import io.grpc.Status;

/**
 * A channel call failed for a reason other than a bad argument: channeld could not be reached,
 * refused the API key, timed out or failed. As in App Engine it is unchecked.
 */
public class ChannelFailureException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Status.Code statusCode;

  public ChannelFailureException(String message) {
    this(message, null, null);
  }

  public ChannelFailureException(String message, Throwable cause) {
    this(message, null, cause);
  }

  ChannelFailureException(String message, Status.Code statusCode, Throwable cause) {
    super(message, cause);
    this.statusCode = statusCode;
  }

  /** The gRPC status channeld answered with, or null when the failure did not come from a call. */
  public Status.Code getStatusCode() {
    return statusCode;
  }
}
