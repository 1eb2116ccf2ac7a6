package dev.affinity.testkit;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** A whole message received by a {@link WsSession}: text or binary. */
public final class WsMessage {
  private final @Nullable String text;
  private final byte @Nullable [] binary;

  private WsMessage(@Nullable String text, byte @Nullable [] binary) {
    this.text = text;
    this.binary = binary;
  }

  static WsMessage text(String text) {
    return new WsMessage(text, null);
  }

  static WsMessage binary(byte[] data) {
    return new WsMessage(null, data);
  }

  /** The text, or null for a binary message. */
  public @Nullable String text() {
    return text;
  }

  /** The bytes, or null for a text message. */
  public byte @Nullable [] binary() {
    return binary;
  }

  /** Type and size; the start of a text message. */
  @Override
  public String toString() {
    if (text != null) {
      String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
      return "text(" + text.getBytes(StandardCharsets.UTF_8).length + " bytes: " + shown + ")";
    }
    return "binary(" + (binary == null ? 0 : binary.length) + " bytes)";
  }
}
