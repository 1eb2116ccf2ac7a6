package dev.affinity.discovery;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.affinity.AffinityException;
import dev.affinity.backend.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** {@link BackendSource#file}: re-parsed only when the file's content changed. */
final class FileBackendSource implements BackendSource {
  private final Path path;
  private @Nullable String lastText;
  private List<Backend> last = List.of();

  FileBackendSource(Path path) {
    this.path = path;
  }

  @Override
  public synchronized List<Backend> backends() throws IOException {
    String text = Files.readString(path, UTF_8);
    if (text.equals(lastText)) {
      return last;
    }
    List<Backend> parsed = parse(text);
    lastText = text;
    last = parsed;
    return parsed;
  }

  private List<Backend> parse(String text) throws IOException {
    List<Backend> out = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    String[] lines = text.split("\r?\n", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        Backend b = parseLine(line);
        if (!ids.add(b.id())) {
          throw new IOException(path + ":" + (n + 1) + ": duplicate id " + b.id());
        }
        out.add(b);
      } catch (AffinityException | IllegalArgumentException e) {
        throw new IOException(path + ":" + (n + 1) + ": '" + line + "': " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static Backend parseLine(String line) {
    String[] f = line.split("\\s+", -1);
    int i = 0;
    String id = null;
    if (f.length > 1 && !f[1].contains("=")) {
      id = f[0];
      i = 1;
    }
    String address = f[i];
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("address: " + address + " (expected: host:port)");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = Integer.parseInt(address.substring(colon + 1));
    Backend b = Backend.of(id != null ? id : address, host, port);
    for (int k = i + 1; k < f.length; k++) {
      int eq = f[k].indexOf('=');
      String key = eq < 0 ? f[k] : f[k].substring(0, eq);
      String value = eq < 0 ? "" : f[k].substring(eq + 1);
      switch (key) {
        case "weight":
          b = b.withWeight(Integer.parseInt(value));
          break;
        case "max-connections":
          b = b.withMaxConnections(Integer.parseInt(value));
          break;
        default:
          throw new IllegalArgumentException(
              "option: " + f[k] + " (expected: weight=N or max-connections=N)");
      }
    }
    return b;
  }

  @Override
  public String toString() {
    return "BackendSource.file(" + path + ")";
  }
}
