package com.github.channeld.channel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads presence notices without the servlet API, for apps on {@code jakarta.servlet} or none:
 * {@code PresenceParser.parse(req.getRequestURI(), req.getContentType(), req.getInputStream())}.
 * {@link ChannelService#parsePresence} is this for a {@code javax.servlet} request.
 *
 * <p>The rules are App Engine's: the path ends in {@code /channel/connected/} or {@code
 * /channel/disconnected/}, and the client id is the {@code from} field of a {@code
 * multipart/form-data} body (RFC 7578), UTF-8 unless the part names another charset.
 */
public final class PresenceParser {
  /** A notice is one short field; anything much larger is not one. */
  static final int MAXIMUM_BODY_BYTES = 64 * 1024;

  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEADERS_END = {'\r', '\n', '\r', '\n'};

  private PresenceParser() {}

  /**
   * @throws IllegalArgumentException if the body is not multipart/form-data, the path is not a
   *     presence path, or there is no {@code from} field
   * @throws IOException if the body cannot be read or is malformed
   */
  public static ChannelPresence parse(String requestUri, String contentType, InputStream body) throws IOException {
    String boundary = boundary(contentType);
    if (boundary == null) {
      throw new IllegalArgumentException("No arguments provided in request.");
    }
    boolean connected;
    String path = requestUri == null ? "" : requestUri;
    if (path.endsWith("/channel/connected/")) {
      connected = true;
    } else if (path.endsWith("/channel/disconnected/")) {
      connected = false;
    } else {
      throw new IllegalArgumentException("Can't determine the type of channel presence from the path: " + path);
    }
    for (Part part : parts(readAll(body), boundary)) {
      if ("from".equals(part.name())) {
        return new ChannelPresence(connected, part.text());
      }
    }
    throw new IllegalArgumentException("Can't determine clientId from request body: it has no \"from\" field.");
  }

  static ChannelMessage parseMessage(String clientId, String message) {
    if (clientId == null) {
      throw new IllegalStateException("Client id parameter not found in HTTP request.");
    }
    if (message == null) {
      throw new IllegalStateException("Message parameter not found in HTTP request.");
    }
    return new ChannelMessage(clientId, message);
  }

  /** The boundary of a multipart/form-data content type, or null for any other type. */
  static String boundary(String contentType) {
    if (contentType == null) {
      return null;
    }
    List<String> fields = splitParameters(contentType);
    if (!fields.get(0).trim().equalsIgnoreCase("multipart/form-data")) {
      return null;
    }
    String boundary = parameter(fields, "boundary");
    return boundary == null || boundary.isEmpty() ? null : boundary;
  }

  private static byte[] readAll(InputStream body) throws IOException {
    if (body == null) {
      throw new IOException("Could not parse incoming request: it has no body.");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    for (int n; (n = body.read(buffer)) != -1; ) {
      out.write(buffer, 0, n);
      if (out.size() > MAXIMUM_BODY_BYTES) {
        throw new IOException("Could not parse incoming request: the body is over " + MAXIMUM_BODY_BYTES + " bytes.");
      }
    }
    return out.toByteArray();
  }

  private record Part(String name, Charset charset, byte[] body, int start, int end) {
    String text() {
      return new String(body, start, end - start, charset);
    }
  }

  /**
   * The parts between the boundary lines (RFC 2046 section 5.1.1): the first delimiter may follow
   * a preamble, every later one follows CRLF, and "--" after a delimiter ends the body.
   */
  private static List<Part> parts(byte[] body, String boundary) throws IOException {
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    byte[] nextDelimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    int at;
    if (startsWith(body, 0, delimiter)) {
      at = delimiter.length;
    } else {
      int found = indexOf(body, nextDelimiter, 0);
      if (found < 0) {
        throw malformed("no opening boundary");
      }
      at = found + nextDelimiter.length;
    }
    List<Part> parts = new ArrayList<>();
    while (true) {
      if (startsWith(body, at, new byte[] {'-', '-'})) {
        return parts;
      }
      while (at < body.length && (body[at] == ' ' || body[at] == '\t')) {
        at++;
      }
      if (!startsWith(body, at, CRLF)) {
        throw malformed("a boundary line does not end with CRLF");
      }
      at += CRLF.length;
      int end = indexOf(body, nextDelimiter, at);
      if (end < 0) {
        throw malformed("no closing boundary");
      }
      parts.add(part(body, at, end));
      at = end + nextDelimiter.length;
    }
  }

  private static Part part(byte[] body, int start, int end) throws IOException {
    int headersEnd;
    int contentStart;
    if (startsWith(body, start, CRLF)) {
      headersEnd = start;
      contentStart = start + CRLF.length;
    } else {
      headersEnd = indexOf(body, HEADERS_END, start);
      if (headersEnd < 0 || headersEnd > end) {
        throw malformed("a part's headers do not end");
      }
      contentStart = headersEnd + HEADERS_END.length;
    }
    String name = null;
    Charset charset = StandardCharsets.UTF_8;
    // Header lines are ASCII; a non-ASCII filename would not matter here.
    String headers = new String(body, start, headersEnd - start, StandardCharsets.ISO_8859_1);
    for (String line : headers.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String header = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      List<String> fields = splitParameters(line.substring(colon + 1));
      if (header.equals("content-disposition") && fields.get(0).trim().equalsIgnoreCase("form-data")) {
        name = parameter(fields, "name");
      } else if (header.equals("content-type")) {
        charset = charset(parameter(fields, "charset"), charset);
      }
    }
    return new Part(name, charset, body, contentStart, end);
  }

  private static Charset charset(String name, Charset fallback) throws IOException {
    if (name == null) {
      return fallback;
    }
    try {
      return Charset.forName(name);
    } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
      throw new IOException("Could not parse incoming request: unknown charset " + name, e);
    }
  }

  /** Splits {@code value; a=b; c="d;e"} at the semicolons outside quotes. */
  private static List<String> splitParameters(String value) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (quoted && c == '\\' && i + 1 < value.length()) {
        field.append(c).append(value.charAt(++i));
        continue;
      }
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ';' && !quoted) {
        fields.add(field.toString());
        field.setLength(0);
        continue;
      }
      field.append(c);
    }
    fields.add(field.toString());
    return fields;
  }

  /** The value of parameter {@code name} (case-insensitive), unquoted; null when absent. */
  private static String parameter(List<String> fields, String name) {
    for (String field : fields.subList(1, fields.size())) {
      int eq = field.indexOf('=');
      if (eq < 0 || !field.substring(0, eq).trim().equalsIgnoreCase(name)) {
        continue;
      }
      String value = field.substring(eq + 1).trim();
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        StringBuilder unquoted = new StringBuilder();
        for (int i = 1; i < value.length() - 1; i++) {
          char c = value.charAt(i);
          if (c == '\\' && i + 1 < value.length() - 1) {
            c = value.charAt(++i);
          }
          unquoted.append(c);
        }
        return unquoted.toString();
      }
      return value;
    }
    return null;
  }

  private static boolean startsWith(byte[] data, int at, byte[] prefix) {
    if (at < 0 || at + prefix.length > data.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (data[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] data, byte[] needle, int from) {
    for (int i = Math.max(from, 0); i + needle.length <= data.length; i++) {
      if (startsWith(data, i, needle)) {
        return i;
      }
    }
    return -1;
  }

  private static IOException malformed(String why) {
    return new IOException("Could not parse incoming request: " + why + ".");
  }
}
