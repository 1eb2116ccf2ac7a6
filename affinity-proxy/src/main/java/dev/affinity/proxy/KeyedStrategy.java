package dev.affinity.proxy;

import static java.util.Objects.requireNonNull;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.Selection;
import dev.affinity.strategy.Selector;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A cookie or JWT strategy whose keys a reload replaces: its selectors follow the strategy built
 * from the latest configuration, so a rotated cookie secret or JWT key applies from the next
 * handshake on, without waiting for the next membership snapshot, and open tunnels are untouched.
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
  public Selector selector(Membership membership, @Nullable Selector previous) {
    return new Following(membership, current.selector(membership, null), current);
  }

  @Override
  public String toString() {
    return current.toString();
  }

  /**
   * The selector of the strategy in use for one snapshot: rebuilt, once, by the first request after
   * a {@link #replace} (a cookie or JWT selector is cheap to build).
   */
  private final class Following implements Selector {
    private final Membership membership;
    private volatile Selector inner;
    private volatile AffinityStrategy builtFor;

    Following(Membership membership, Selector inner, AffinityStrategy builtFor) {
      this.membership = membership;
      this.inner = inner;
      this.builtFor = builtFor;
    }

    private Selector inner() {
      AffinityStrategy now = current;
      if (builtFor != now) {
        Selector rebuilt = now.selector(membership, null);
        inner = rebuilt;
        builtFor = now;
        return rebuilt;
      }
      return inner;
    }

    @Override
    public Selection select(RoutingRequest request) {
      return inner().select(request);
    }

    @Override
    public List<Member> failoverCandidates(
        Membership snapshot, long keyHash, Member chosen, int limit) {
      return inner().failoverCandidates(snapshot, keyHash, chosen, limit);
    }

    @Override
    public @Nullable Member ownerOf(long keyHash) {
      return inner().ownerOf(keyHash);
    }

    @Override
    public @Nullable SetCookie cookieFor(RoutingRequest request, Member member, Outcome outcome) {
      return inner().cookieFor(request, member, outcome);
    }

    @Override
    public boolean mayVeto() {
      return inner().mayVeto();
    }

    @Override
    public @Nullable Selection veto(RoutingRequest request) {
      return inner().veto(request);
    }

    @Override
    public @Nullable String describeKey(RoutingRequest request) {
      return inner().describeKey(request);
    }
  }
}
