package com.github.channeld.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The multipart reading, on bodies written out by hand (the live suite has channeld's own). */
class PresenceParserTest {
  private static final String CONNECTED = "/_ah/channel/connected/";
  private static final String DISCONNECTED = "/_ah/channel/disconnected/";

  private static ChannelPresence parse(String uri, String contentType, String body, Charset charset) throws IOException {
    return PresenceParser.parse(uri, contentType, new ByteArrayInputStream(body.getBytes(charset)));
  }

  private static ChannelPresence parse(String uri, String contentType, String body) throws IOException {
    return parse(uri, contentType, body, StandardCharsets.UTF_8);
  }

  @Test
  void readsTheFromFieldAndTellsConnectedFromThePath() throws IOException {
    String body = "--b1\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\nj\u00e4v\u00e4 \u2713\r\n--b1--\r\n";
    assertEquals(new ChannelPresence(true, "j\u00e4v\u00e4 \u2713"), parse(CONNECTED, "multipart/form-data; boundary=b1", body));
    assertEquals(new ChannelPresence(false, "j\u00e4v\u00e4 \u2713"), parse("/hooks" + DISCONNECTED, "multipart/form-data; boundary=b1", body));
  }

  @Test
  void readsAnyWellFormedForm() throws IOException {
    String body = "preamble\r\n--\"x;y\"  \r\n"
        + "content-disposition: form-data; name=other\r\n\r\nline one\r\n--not the boundary\r\n"
        + "--\"x;y\"\r\n"
        + "CONTENT-TYPE: text/plain; charset=ISO-8859-1\r\n"
        + "Content-Disposition: form-data; name=\"from\"; filename=\"a\\\"b.txt\"\r\n\r\n"
        + "caf\u00e9\r\n--\"x;y\"--";
    // The boundary is quoted in the header and appears unquoted in the body.
    String boundary = "x;y";
    ChannelPresence p = parse(CONNECTED, "Multipart/Form-Data; charset=utf-8; boundary=\"" + boundary + "\"",
        body.replace("\"x;y\"", boundary), StandardCharsets.ISO_8859_1);
    assertEquals(new ChannelPresence(true, "caf\u00e9"), p);
    assertEquals("x;y", PresenceParser.boundary("multipart/form-data; boundary=\"x;y\""));
  }

  @Test
  void refusesWhatIsNotAPresenceNoticeAsAppEngineDid() {
    String body = "--b\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\nu\r\n--b--\r\n";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("/_ah/channel/other/", "multipart/form-data; boundary=b", body));
    assertEquals("Can't determine the type of channel presence from the path: /_ah/channel/other/", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse(CONNECTED, "application/x-www-form-urlencoded", "from=u"));
    assertEquals("No arguments provided in request.", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> parse(CONNECTED, null, body));
    assertThrows(IllegalArgumentException.class, () -> parse(CONNECTED, "multipart/form-data", body), "no boundary");
    e = assertThrows(IllegalArgumentException.class, () -> parse(CONNECTED, "multipart/form-data; boundary=b", body.replace("\"from\"", "\"to\"")));
    assertTrue(e.getMessage().startsWith("Can't determine clientId from request body"), e.getMessage());
  }

  @Test
  void malformedOrHugeBodiesAreIoErrors() {
    String type = "multipart/form-data; boundary=b";
    assertThrows(IOException.class, () -> parse(CONNECTED, type, "no boundary at all"));
    assertThrows(IOException.class, () -> parse(CONNECTED, type, "--b\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\nu"));
    assertThrows(IOException.class, () -> parse(CONNECTED, type, "--bX\r\n\r\nu\r\n--b--"));
    String huge = "--b\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n" + "u".repeat(PresenceParser.MAXIMUM_BODY_BYTES) + "\r\n--b--\r\n";
    assertThrows(IOException.class, () -> parse(CONNECTED, type, huge));
  }

  @Test
  void parseMessageReadsKeyAndMsgAsAppEngineDid() {
    ChannelMessage m = PresenceParser.parseMessage("user", "hi");
    assertEquals("user", m.getClientId());
    assertEquals("hi", m.getMessage());
    assertEquals("Client id parameter not found in HTTP request.", assertThrows(IllegalStateException.class, () -> PresenceParser.parseMessage(null, "hi")).getMessage());
    assertEquals("Message parameter not found in HTTP request.", assertThrows(IllegalStateException.class, () -> PresenceParser.parseMessage("user", null)).getMessage());
  }
}
