package com.github.channeld.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import channel.v1.Channel.CloseChannelRequest;
import channel.v1.Channel.SendMessageRequest;
import channel.v1.Channel.SendMessageResponse;
import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee8.servlet.ServletContextHandler;
import org.eclipse.jetty.ee8.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The migration package against a live channeld (test/backend-java.test.ts starts one): tokens a
 * real WebSocket opens, messages by client id and by token, and the presence POSTs channeld's
 * --presence-webhook sends to a real servlet container. Skipped when CHANNELD_GRPC_ADDR is unset.
 */
@EnabledIfEnvironmentVariable(named = "CHANNELD_GRPC_ADDR", matches = ".+", disabledReason = "no live channeld: CHANNELD_GRPC_ADDR is unset")
class LiveChannelServiceTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static String httpUrl;
  private static ChannelClient channels;
  private static ChannelService shared;
  private static Server jetty;
  /** Every notice the servlet parsed, in arrival order. */
  private static final BlockingQueue<ChannelPresence> presences = new LinkedBlockingQueue<>();
  private static final List<Frames> sockets = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    httpUrl = System.getenv("CHANNELD_HTTP_URL");
    channels = ChannelClient.fromEnvironment();
    // Made now, from the environment: a test below points the system property elsewhere for a
    // moment, and the servlet thread must not make it then.
    shared = ChannelServiceFactory.getChannelService();
    jetty = presenceReceiver(Integer.parseInt(System.getenv("CHANNELD_TEST_PRESENCE_PORT")));
  }

  @AfterAll
  static void stop() throws Exception {
    for (Frames socket : sockets) {
      socket.abort();
    }
    if (channels != null) {
      channels.close();
    }
    if (jetty != null) {
      jetty.stop();
    }
  }

  /** An app's presence handlers: Jetty's javax servlets, answering as an App Engine app would. */
  private static Server presenceReceiver(int port) throws Exception {
    Server server = new Server(new InetSocketAddress("127.0.0.1", port));
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addServlet(new ServletHolder(new HttpServlet() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
          presences.add(shared.parsePresence(req));
          resp.setStatus(200);
        } catch (IllegalArgumentException e) {
          resp.sendError(400, e.getMessage());
        }
      }
    }), "/_ah/channel/*");
    server.setHandler(context);
    server.start();
    return server;
  }

  @Test
  void createdTokensOpenSocketsAndMessagesArriveByClientIdAndByToken() throws Exception {
    String clientId = "java-live-1";
    String token = channels.createChannel(clientId);
    Frames socket = Frames.open(token);
    assertEquals(0, socket.next().get(0).getAsInt(), "the welcome comes first");

    channels.sendMessage(new ChannelMessage(clientId, "by client id \u2713"));
    assertMessage(socket.next(), 1, "by client id \u2713");
    channels.sendMessage(new ChannelMessage(token, "{\"by\":\"token\"}"));
    assertMessage(socket.next(), 2, "{\"by\":\"token\"}");

    // Every token works, also one with a duration, and through the factory's shared service.
    assertSame(shared, ChannelServiceFactory.getChannelService());
    String second = shared.createChannel(clientId, 5);
    assertNotEquals(token, second);
    shared.sendMessage(new ChannelMessage(second, "by the second token"));
    assertMessage(socket.next(), 3, "by the second token");
  }

  @Test
  void aClientIdShapedLikeATokenStaysAClientIdAndTheAnswerIsRemembered() throws Exception {
    AtomicInteger sends = new AtomicInteger();
    ManagedChannel base = Grpc.newChannelBuilder(System.getenv("CHANNELD_GRPC_ADDR"), InsecureChannelCredentials.create()).build();
    Channel counted = ClientInterceptors.intercept(base, new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (method.getBareMethodName().equals("SendMessage")) {
          sends.incrementAndGet();
        }
        return next.newCall(method, options);
      }
    });
    try (ChannelClient client = ChannelClient.builder().channel(counted).build()) {
      // In the token alphabet, but channeld did not mint it.
      String lookalike = "AQAAAZ0000000000000000000000000000000000000000000.SIGNATUREnotREALxxxxxxxxxxxxxxxxxxxxxxxxxxx";
      client.sendMessage(new ChannelMessage(lookalike, "first"));
      assertEquals(2, sends.get(), "one SendMessage asked channeld whether it is a token, one sent to the client id");
      client.sendMessage(new ChannelMessage(lookalike, "second"));
      assertEquals(3, sends.get(), "the answer was remembered");
      client.sendMessage(new ChannelMessage("user@example.com", "third"));
      assertEquals(4, sends.get(), "outside the token alphabet there is no question to ask");

      // The messages wait for the client id's own socket.
      Frames socket = Frames.open(client.createChannel(lookalike));
      assertEquals(0, socket.next().get(0).getAsInt());
      assertMessage(socket.next(), 1, "first");
      assertMessage(socket.next(), 2, "second");
    } finally {
      base.shutdownNow();
    }
  }

  @Test
  void aRevokedTokensMessageIsDroppedSilently() {
    String clientId = "java-live-revoked";
    String token = channels.createChannel(clientId);
    channels.stub().withDeadlineAfter(10, TimeUnit.SECONDS).closeChannel(CloseChannelRequest.newBuilder().setClientId(clientId).build());
    SendMessageResponse before = sendByClientId(clientId, "before");

    channels.sendMessage(new ChannelMessage(token, "for a revoked token"));

    SendMessageResponse after = sendByClientId(clientId, "after");
    assertEquals(before.getEpoch(), after.getEpoch());
    assertEquals(before.getSeq() + 1, after.getSeq(), "the revoked token's message was not appended");
  }

  @Test
  void aTokenForALongClientIdIsLongerThan256BytesAndStillAddressesIt() throws Exception {
    String clientId = "L".repeat(256);
    String token = channels.createChannel(clientId);
    assertTrue(token.length() > 256, "token length " + token.length());
    Frames socket = Frames.open(token);
    assertEquals(0, socket.next().get(0).getAsInt());
    channels.sendMessage(new ChannelMessage(token, "to a long client id"));
    assertMessage(socket.next(), 1, "to a long client id");

    // As long, in the token alphabet, but not a token (its last character changed): too long for a
    // client id.
    String forged = token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> channels.sendMessage(new ChannelMessage(forged, "lost")));
    assertEquals(Limits.CLIENT_ID_TOO_LONG, e.getMessage());
  }

  @Test
  void inputChanneldRefusesIsAnIllegalArgument() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> channels.createChannel(""));
    assertTrue(e.getMessage().startsWith("client_id is empty"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> channels.sendMessage(new ChannelMessage("java-live-1", "")));
    assertTrue(e.getMessage().startsWith("message is empty"), e.getMessage());
  }

  @Test
  void aWrongApiKeyOrNoServerIsAChannelFailure() {
    try (ChannelClient wrongKey = ChannelClient.builder().apiKey("not-the-key").build()) {
      ChannelFailureException e = assertThrows(ChannelFailureException.class, () -> wrongKey.createChannel("java-live-1"));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatusCode());
    }
    String saved = System.getProperty("channeld.grpc.addr");
    System.setProperty("channeld.grpc.addr", "127.0.0.1:1");
    try (ChannelClient nobody = ChannelClient.builder().timeout(Duration.ofSeconds(5)).build()) {
      ChannelFailureException e = assertThrows(ChannelFailureException.class, () -> nobody.sendMessage(new ChannelMessage("a b", "hi")));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatusCode(), "the system property beats CHANNELD_GRPC_ADDR");
    } finally {
      if (saved == null) {
        System.clearProperty("channeld.grpc.addr");
      } else {
        System.setProperty("channeld.grpc.addr", saved);
      }
    }
  }

  @Test
  void presencePostsFromChanneldAreParsedByTheServletContainer() throws Exception {
    String clientId = "j\u00e4v\u00e4 presence \u2713";
    Frames socket = Frames.open(channels.createChannel(clientId));
    assertEquals(0, socket.next().get(0).getAsInt());
    assertEquals(new ChannelPresence(true, clientId), nextPresenceOf(clientId));
    socket.close();
    assertEquals(new ChannelPresence(false, clientId), nextPresenceOf(clientId));
  }

  private static ChannelPresence nextPresenceOf(String clientId) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      ChannelPresence p = presences.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (p == null) {
        throw new AssertionError("no presence notice for " + clientId + " within " + WAIT);
      }
      if (p.clientId().equals(clientId)) {
        return p;
      }
    }
  }

  private static SendMessageResponse sendByClientId(String clientId, String message) {
    return channels.stub().withDeadlineAfter(10, TimeUnit.SECONDS).sendMessage(SendMessageRequest.newBuilder().setClientId(clientId).setMessage(message).build());
  }

  private static void assertMessage(JsonArray frame, long seq, String data) {
    assertEquals(1, frame.get(0).getAsInt(), "a message frame: " + frame);
    assertEquals(seq, frame.get(1).getAsLong(), "seq of " + frame);
    assertEquals(data, frame.get(2).getAsString());
  }

  /** A browser's socket: java.net.http's WebSocket with the subprotocols of docs/protocol.md. */
  private static final class Frames implements WebSocket.Listener {
    private final BlockingQueue<JsonArray> frames = new LinkedBlockingQueue<>();
    private final StringBuilder partial = new StringBuilder();
    private final List<String> closed = new ArrayList<>();
    private WebSocket ws;

    static Frames open(String token) throws Exception {
      Frames frames = new Frames();
      URI uri = URI.create(httpUrl.replaceFirst("^http", "ws") + "/_ah/channel/ws");
      frames.ws = HttpClient.newHttpClient().newWebSocketBuilder()
          .subprotocols("channeld.v1", "token." + token)
          .buildAsync(uri, frames)
          .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals("channeld.v1", frames.ws.getSubprotocol());
      sockets.add(frames);
      return frames;
    }

    JsonArray next() throws InterruptedException {
      JsonArray frame = frames.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      if (frame == null) {
        throw new AssertionError("no frame within " + WAIT + (closed.isEmpty() ? "" : "; closed: " + closed));
      }
      return frame;
    }

    void close() throws Exception {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    void abort() {
      ws.abort();
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        frames.add(JsonParser.parseString(partial.toString()).getAsJsonArray());
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      synchronized (closed) {
        closed.add(statusCode + " " + reason);
      }
      return null;
    }
  }
}
