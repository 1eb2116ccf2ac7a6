package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The bearer tokens the admin API accepts, each with a name that the audit log shows instead of the
 * token. A token file holds one {@code NAME:TOKEN} per line ({@code #} starts a comment); a line
 * without a name is named {@code admin}. Tokens are compared in constant time over their SHA-256
 * digests. Error messages name the file and the line, never a token.
 */
final class AdminTokens {
  /** The shortest token accepted: 16 characters, so a guessable one is refused at startup. */
  static final int MIN_LENGTH = 16;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");

  private final List<String> names;
  private final List<byte[]> digests;

  private AdminTokens(List<String> names, List<byte[]> digests) {
    this.names = List.copyOf(names);
    this.digests = List.copyOf(digests);
  }

  /**
   * Reads the tokens in {@code file}.
   *
   * @throws IllegalArgumentException naming the file and the reason or line
   */
  static AdminTokens fromFile(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read " + file + ": " + FileErrors.reason(e) + " (expected: a token file)", e);
    }
    List<String> names = new ArrayList<>();
    List<byte[]> digests = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      String name = colon < 0 ? "admin" : line.substring(0, colon).strip();
      String token = colon < 0 ? line : line.substring(colon + 1).strip();
      String where = file + " line " + (i + 1);
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            where + ": token name '" + name + "' (expected: 1..64 of A-Z a-z 0-9 . _ @ -)");
      }
      check(where, token);
      if (names.contains(name)) {
        throw new IllegalArgumentException(
            where + ": token name '" + name + "' given twice (expected: one line per name)");
      }
      names.add(name);
      digests.add(sha256(token));
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(file + ": no token (expected: lines of NAME:TOKEN)");
    }
    return new AdminTokens(names, digests);
  }

  /**
   * One token named after the environment variable it came from.
   *
   * @throws IllegalArgumentException if it is unset or too short
   */
  static AdminTokens fromEnvironment(String variable, @Nullable String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          variable + " is not set (expected: the admin bearer token in it)");
    }
    check(variable, value.strip());
    return new AdminTokens(List.of("env:" + variable), List.of(sha256(value.strip())));
  }

  private static void check(String where, String token) {
    if (token.length() < MIN_LENGTH || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw new IllegalArgumentException(
          where
              + ": token of "
              + token.length()
              + " characters (expected: at least "
              + MIN_LENGTH
              + " printable ASCII characters, e.g. openssl rand -hex 32)");
    }
  }

  /** The name of {@code token}, or null if it is not one of these. Constant time per token. */
  @Nullable String nameOf(String token) {
    byte[] d = sha256(token);
    String found = null;
    for (int i = 0; i < digests.size(); i++) {
      if (MessageDigest.isEqual(d, digests.get(i))) {
        found = names.get(i);
      }
    }
    return found;
  }

  /** The token names, for the startup line. */
  List<String> names() {
    return names;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
