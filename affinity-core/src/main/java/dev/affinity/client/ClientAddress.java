package dev.affinity.client;

import static java.util.Objects.requireNonNull;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The resolved client of a handshake: its address, where that address came from, and, for RFC 7239
 * obfuscated identifiers ({@code for=_hidden}), the identifier the trusted proxy used instead of an
 * address.
 */
public final class ClientAddress {
  /** Where a resolved client address was read from. */
  public enum Source {
    /** The TCP peer itself (no trusted proxy in front). */
    PEER,
    /** The source address of a PROXY protocol header sent by a trusted peer. */
    PROXY_PROTOCOL,
    /** An {@code X-Forwarded-For} entry. */
    X_FORWARDED_FOR,
    /** The {@code for=} parameter of an RFC 7239 {@code Forwarded} element. */
    FORWARDED
  }

  private final InetAddress address;
  private final Source source;
  private final @Nullable String obfuscatedIdentifier;

  ClientAddress(InetAddress address, Source source, @Nullable String obfuscatedIdentifier) {
    this.address = requireNonNull(address, "address");
    this.source = requireNonNull(source, "source");
    this.obfuscatedIdentifier = obfuscatedIdentifier;
  }

  /**
   * The client's address, normalised (IPv4-mapped IPv6 unmapped) and grouped by the resolver's
   * prefix lengths. For an obfuscated client this is the last trusted hop.
   */
  public InetAddress address() {
    return address;
  }

  /** Where {@link #address()} came from. */
  public Source source() {
    return source;
  }

  /**
   * The RFC 7239 obfuscated identifier (such as {@code _hidden} or {@code unknown}) a trusted proxy
   * gave instead of an address, or null. When present, the client IP key hashes this identifier.
   */
  public @Nullable String obfuscatedIdentifier() {
    return obfuscatedIdentifier;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ClientAddress)) {
      return false;
    }
    ClientAddress that = (ClientAddress) o;
    return address.equals(that.address)
        && source == that.source
        && Objects.equals(obfuscatedIdentifier, that.obfuscatedIdentifier);
  }

  @Override
  public int hashCode() {
    return Objects.hash(address, source, obfuscatedIdentifier);
  }

  /** For example {@code 203.0.113.7 (X_FORWARDED_FOR)}. */
  @Override
  public String toString() {
    String who =
        obfuscatedIdentifier != null
            ? obfuscatedIdentifier + " via " + InetAddresses.toAddrString(address)
            : InetAddresses.toAddrString(address);
    return who + " (" + source + ")";
  }
}
