package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.RoutingKey;
import dev.affinity.strategy.Selection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A cookie or JWT strategy whose keys a reload replaces: every call goes to the strategy built from
 * the latest configuration, so a rotated cookie secret or JWT key applies from the next handshake
 * on, and open tunnels are untouched.
 */
final class KeyedStrategy implements AffinityStrategy {
  private volatile AffinityStrategy current;

  KeyedStrategy(AffinityStrategy first) {
    this.current = requireNonNull(first, "first");
  }

  /** The strategy calls go to now. */
  AffinityStrategy current() {
    return current;
  }

  /** Sends calls to {@code next} from now on. */
  void replace(AffinityStrategy next) {
    this.current = requireNonNull(next, "next");
  }

  @Override
  public Selection select(RoutingRequest request, Membership membership) {
    return current.select(request, membership);
  }

  @Override
  public String name() {
    return current.name();
  }

  @Override
  public List<Member> failoverCandidates(
      RoutingRequest request, Membership membership, Member chosen, int limit) {
    return current.failoverCandidates(request, membership, chosen, limit);
  }

  @Override
  public @Nullable SetCookie cookieFor(RoutingRequest request, RoutingDecision decision) {
    return current.cookieFor(request, decision);
  }

  @Override
  public @Nullable Member ownerOf(long keyHash, Membership membership) {
    return current.ownerOf(keyHash, membership);
  }

  @Override
  public @Nullable RoutingKey routingKey() {
    return current.routingKey();
  }

  @Override
  public String toString() {
    return current.toString();
  }
}
