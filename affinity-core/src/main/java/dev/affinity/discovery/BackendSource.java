package dev.affinity.discovery;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import dev.affinity.backend.Backend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a group's backends come from when they are discovered rather than listed: DNS or a file.
 * {@link DiscoveredMembership} asks the source every interval and adds, drains and removes backends
 * to match.
 *
 * <p>Discovered backends get ids from their address ({@code 10.0.0.7:8080}, {@code
 * [2001:db8::7]:8080}, or for SRV the target name and port), so the same pod or host keeps the same
 * id, and affinity, across refreshes and across proxy instances.
 */
public interface BackendSource {
  /**
   * The backends the source names right now.
   *
   * @throws IOException if the source could not be read; the group is then left as it is
   */
  List<Backend> backends() throws IOException;

  /**
   * A/AAAA records of {@code name}, each address a backend on {@code port}, asked of the system's
   * DNS servers.
   *
   * @throws dev.affinity.AffinityConfigurationException if the name is blank or the port out of
   *     range
   */
  static BackendSource dns(String name, int port) {
    return dns(name, port, null);
  }

  /**
   * A/AAAA records of {@code name}, each address a backend on {@code port}, asked of {@code server}
   * (the system's DNS servers when null).
   *
   * @throws dev.affinity.AffinityConfigurationException if the name is blank or the port out of
   *     range
   */
  static BackendSource dns(String name, int port, @Nullable InetSocketAddress server) {
    requireNonNull(name, "name");
    check(!name.isBlank(), "name", "'" + name + "'", "a DNS name");
    check(port > 0 && port <= 65_535, "port", port, "1..65535");
    return new DnsBackendSource(name, port, server);
  }

  /**
   * SRV records of {@code name} (such as {@code _ws._tcp.chat.default.svc.cluster.local}): each
   * target and port a backend, the SRV weight (at least 1) its weight. Asked of {@code server} (the
   * system's DNS servers when null).
   *
   * @throws dev.affinity.AffinityConfigurationException if the name is blank
   */
  static BackendSource dnsSrv(String name, @Nullable InetSocketAddress server) {
    requireNonNull(name, "name");
    check(!name.isBlank(), "name", "'" + name + "'", "a DNS name");
    return new DnsBackendSource(name, 0, server);
  }

  /**
   * A text file, read again whenever it changes: one backend per line, {@code host:port} or {@code
   * id host:port}, optionally followed by {@code weight=N} and {@code max-connections=N}; blank
   * lines and lines starting with {@code #} are ignored. A malformed file changes nothing.
   */
  static BackendSource file(Path path) {
    return new FileBackendSource(requireNonNull(path, "path"));
  }
}
