package com.github.channeld.channel;

import channel.v1.Channel.CreateChannelRequest;
import channel.v1.Channel.SendMessageRequest;
import channel.v1.ChannelServiceGrpc;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link ChannelService} on one gRPC connection to channeld. {@link
 * ChannelServiceFactory#getChannelService()} shares one configured from the environment; build
 * your own for another address, API key, deadline or a {@link Channel} of your own (e.g. TLS):
 *
 * <pre>{@code
 * try (ChannelClient channels = ChannelClient.builder().address("channeld:50051").apiKey(key).build()) {
 *   String token = channels.createChannel("user-42");
 *   channels.sendMessage(new ChannelMessage("user-42", "{\"hello\":\"world\"}"));
 * }
 * }</pre>
 *
 * <p>It is thread-safe. {@link #stub()} and {@link #grpcChannel()} reach the RPCs App Engine did
 * not have (Broadcast, WatchPresence, CloseChannel, ...) with the same API key.
 */
public final class ChannelClient implements ChannelService, AutoCloseable {
  public static final String DEFAULT_ADDRESS = "127.0.0.1:50051";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private static final Logger LOG = Logger.getLogger(ChannelClient.class.getName());
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel owned;
  private final Channel channel;
  private final ChannelServiceGrpc.ChannelServiceBlockingStub stub;
  private final Duration timeout;
  private final NotTokens notTokens = new NotTokens(10_000, TimeUnit.MINUTES.toNanos(10), System::nanoTime);

  private ChannelClient(Builder builder) {
    Settings settings = Settings.fromSystem(builder.address, builder.apiKey);
    Channel base = builder.channel;
    if (base == null) {
      owned = Grpc.newChannelBuilder(settings.address(), InsecureChannelCredentials.create()).build();
      base = owned;
    } else {
      owned = null;
    }
    if (!settings.apiKey().isEmpty()) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + settings.apiKey());
      base = ClientInterceptors.intercept(base, MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    channel = base;
    stub = ChannelServiceGrpc.newBlockingStub(channel);
    timeout = builder.timeout;
  }

  /** A client for the address and API key of the system properties or the environment. */
  public static ChannelClient fromEnvironment() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Settings left unset come from system properties, then the environment (see {@link ChannelServiceFactory}). */
  public static final class Builder {
    private String address;
    private String apiKey;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Channel channel;

    private Builder() {}

    /** host:port of channeld's gRPC listener. */
    public Builder address(String address) {
      this.address = address;
      return this;
    }

    /** Sent as {@code authorization: Bearer <key>}; "" sends none. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /** The deadline of each call (default 10 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** A channel of your own instead of a plaintext one to the address; {@link #close()} leaves it open. */
    public Builder channel(Channel channel) {
      this.channel = channel;
      return this;
    }

    public ChannelClient build() {
      return new ChannelClient(this);
    }
  }

  @Override
  public String createChannel(String clientId) {
    Limits.checkClientId(clientId);
    return create(CreateChannelRequest.newBuilder().setClientId(clientId).build());
  }

  @Override
  public String createChannel(String clientId, int durationMinutes) {
    Limits.checkDuration(durationMinutes);
    Limits.checkClientId(clientId);
    return create(CreateChannelRequest.newBuilder().setClientId(clientId).setDurationMinutes(durationMinutes).build());
  }

  private String create(CreateChannelRequest request) {
    try {
      return call().createChannel(request).getToken();
    } catch (StatusRuntimeException e) {
      throw failure(e);
    }
  }

  @Override
  public void sendMessage(ChannelMessage message) {
    Objects.requireNonNull(message, "message");
    String target = message.getClientId();
    int targetBytes = Limits.clientIdBytes(target);
    boolean mayBeToken = NotTokens.couldBeToken(target);
    // A token may be longer than any client id; anything else that long is refused here, as App
    // Engine did.
    if (targetBytes > Limits.MAXIMUM_CLIENT_ID_BYTES && !mayBeToken) {
      throw new IllegalArgumentException(Limits.CLIENT_ID_TOO_LONG);
    }
    Limits.checkMessage(message.getMessage());
    if (mayBeToken && (targetBytes > Limits.MAXIMUM_CLIENT_ID_BYTES || !notTokens.contains(target))) {
      if (sendToToken(target, message.getMessage())) {
        return;
      }
      if (targetBytes > Limits.MAXIMUM_CLIENT_ID_BYTES) {
        throw new IllegalArgumentException(Limits.CLIENT_ID_TOO_LONG);
      }
      notTokens.add(target);
    }
    send(SendMessageRequest.newBuilder().setClientId(target).setMessage(message.getMessage()).build());
  }

  /**
   * Asks channeld to send to {@code token} as a token. Only channeld can tell a token from a client
   * id that looks like one, so a string it does not take for a token (false) is a client id.
   */
  private boolean sendToToken(String token, String message) {
    try {
      call().sendMessage(SendMessageRequest.newBuilder().setToken(token).setMessage(message).build());
      return true;
    } catch (StatusRuntimeException e) {
      Status status = e.getStatus();
      String description = status.getDescription() == null ? "" : status.getDescription();
      if (status.getCode() == Status.Code.INVALID_ARGUMENT && description.startsWith("token ")) {
        return false;
      }
      if (status.getCode() == Status.Code.FAILED_PRECONDITION) {
        // An expired or revoked token: its channel is gone, and App Engine dropped such messages
        // without an error.
        LOG.log(Level.FINE, "message for a token dropped: {0}", description);
        return true;
      }
      throw failure(e);
    }
  }

  private void send(SendMessageRequest request) {
    try {
      call().sendMessage(request);
    } catch (StatusRuntimeException e) {
      throw failure(e);
    }
  }

  /**
   * The generated blocking stub, sending the API key; give each call a deadline ({@code
   * stub().withDeadlineAfter(5, SECONDS).broadcast(...)}).
   */
  public ChannelServiceGrpc.ChannelServiceBlockingStub stub() {
    return stub;
  }

  /** The connection, sending the API key, for the async and streaming stubs ({@code ChannelServiceGrpc.newStub(...)}). */
  public Channel grpcChannel() {
    return channel;
  }

  /** Closes the connection this client opened (not a channel given to the builder). */
  @Override
  public void close() {
    if (owned == null) {
      return;
    }
    owned.shutdown();
    try {
      if (!owned.awaitTermination(5, TimeUnit.SECONDS)) {
        owned.shutdownNow();
      }
    } catch (InterruptedException e) {
      owned.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private ChannelServiceGrpc.ChannelServiceBlockingStub call() {
    return stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * App Engine's exception for a failed call: input channeld refused is an {@link
   * IllegalArgumentException} (as App Engine's own checks threw), anything else a {@link
   * ChannelFailureException} carrying the status.
   */
  private static RuntimeException failure(StatusRuntimeException e) {
    Status status = e.getStatus();
    String description = status.getDescription() == null ? status.getCode().toString() : status.getDescription();
    if (status.getCode() == Status.Code.INVALID_ARGUMENT) {
      return new IllegalArgumentException(description, e);
    }
    return new ChannelFailureException("channeld answered " + status.getCode() + ": " + description, status.getCode(), e);
  }
}
