package dev.affinity.proxy;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The proxy's YAML configuration file ({@code --config FILE}): every key is a flag's name without
 * its dashes, so the file holds everything the flags express, and flags given on the command line
 * override it.
 *
 * <pre>
 * listen: 0.0.0.0:8080
 * backends:
 *   - {id: ws-1, uri: "ws://10.0.0.1:9000"}
 *   - {id: ws-2, uri: "ws://10.0.0.2:9000", weight: 2}
 * strategy: [cookie, source-ip]
 * cookie-secret-file: /etc/affinity/cookie.key
 * trusted-proxy: [10.0.0.0/8]
 * proxy-protocol: true
 * </pre>
 *
 * A key that names no flag, a value of the wrong shape or a YAML syntax error is an error naming
 * the file and the line.
 */
final class ConfigFile {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> BACKEND_FIELDS =
      Set.of("id", "uri", "weight", "max-connections");

  private ConfigFile() {}

  /**
   * The flags {@code file} stands for, in order.
   *
   * @param knownFlags the command's long flag names (with dashes), to refuse unknown keys
   * @throws IllegalArgumentException naming the file, the line and what was wrong
   */
  static List<String> read(Path file, Set<String> knownFlags) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + FileErrors.reason(e), e);
    }
    JsonNode root;
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = YAML.getFactory().createParser(text)) {
      root = text.isBlank() ? YAML.createObjectNode() : YAML.readTree(p);
      lines.putAll(keyLines(text));
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new IllegalArgumentException(
          file
              + (at == null ? "" : " line " + at.getLineNr())
              + ": not valid YAML: "
              + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + FileErrors.reason(e), e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return List.of();
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException(
          file + " line 1: not a mapping (expected: keys named like the flags, e.g. listen:)");
    }
    List<String> args = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      String key = e.getKey();
      String where = file + " line " + lines.getOrDefault(key, 1) + ": " + key;
      JsonNode value = e.getValue();
      if (key.equals("backends") || key.equals("backend")) {
        backends(where, value, args);
        continue;
      }
      String flag = "--" + key;
      if (key.equals("config") || !knownFlags.contains(flag)) {
        throw new IllegalArgumentException(
            where + ": unknown key (expected: a flag name without its dashes, see --help)");
      }
      if (value.isBoolean()) {
        if (value.booleanValue()) {
          args.add(flag);
        }
      } else if (value.isArray()) {
        for (JsonNode v : value) {
          args.add(flag);
          args.add(scalar(where, v));
        }
      } else {
        args.add(flag);
        args.add(scalar(where, value));
      }
    }
    return args;
  }

  private static void backends(String where, JsonNode value, List<String> args) {
    if (!value.isArray()) {
      throw new IllegalArgumentException(
          where + ": not a list (expected: - {id: ws-1, uri: ws://HOST:PORT})");
    }
    for (JsonNode b : value) {
      if (b.isTextual()) {
        args.add("--backend");
        args.add(b.asText());
        continue;
      }
      if (!b.isObject()) {
        throw new IllegalArgumentException(
            where + ": " + b + " (expected: {id: ID, uri: ws://HOST:PORT, weight: N})");
      }
      StringBuilder spec = new StringBuilder();
      for (Map.Entry<String, JsonNode> field : b.properties()) {
        String name = field.getKey().equals("maxConnections") ? "max-connections" : field.getKey();
        if (!BACKEND_FIELDS.contains(name)) {
          throw new IllegalArgumentException(
              where
                  + ": unknown backend field '"
                  + field.getKey()
                  + "' (expected: "
                  + BACKEND_FIELDS
                  + ")");
        }
        String v = scalar(where, field.getValue());
        if (v.indexOf(',') >= 0) {
          throw new IllegalArgumentException(where + ": " + name + " '" + v + "' contains ','");
        }
        spec.append(spec.length() == 0 ? "" : ",").append(name).append('=').append(v);
      }
      args.add("--backend");
      args.add(spec.toString());
    }
  }

  private static String scalar(String where, JsonNode v) {
    if (v.isValueNode() && !v.isNull()) {
      return v.asText();
    }
    throw new IllegalArgumentException(where + ": " + v + " (expected: a single value)");
  }

  /** The line of each top-level key, for error messages. */
  private static Map<String, Integer> keyLines(String text) throws IOException {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = YAML.getFactory().createParser(text)) {
      int depth = 0;
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          depth++;
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        } else if (t == JsonToken.FIELD_NAME && depth == 1) {
          lines.putIfAbsent(p.currentName(), p.currentTokenLocation().getLineNr());
        }
      }
    }
    return lines;
  }
}
