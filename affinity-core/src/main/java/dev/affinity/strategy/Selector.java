package dev.affinity.strategy;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One strategy's routing state for one membership snapshot: immutable, built once when the snapshot
 * is published (see {@link AffinityStrategy#selector}), then read by every request without locks.
 * Armeria's {@code EndpointSelector} is the model.
 *
 * <p>Only {@link #select} is required. The other methods let a strategy carry its decision past the
 * handshake without computing anything twice: the failover order and the re-homing owner take the
 * key hash the {@link Selection} carried, and {@link #cookieFor} issues a cookie for a backend
 * another strategy (or a connect failover) chose.
 *
 * <p>Implementations must be thread-safe, must not block, and must never build per-snapshot state
 * on a request: everything that depends only on the snapshot is built in {@link
 * AffinityStrategy#selector}.
 */
public interface Selector {
  /**
   * Chooses, abstains, rejects or answers "no backend" for {@code request} under this selector's
   * snapshot. Should not throw: a throwing selector is reported and treated as abstaining.
   */
  Selection select(RoutingRequest request);

  /**
   * Where to connect, in order, if connecting to {@code chosen} fails: members that accept new
   * clients, excluding {@code chosen}, at most {@code limit}. The default orders by weighted live
   * connections, least loaded first; hash strategies use the key's own rendezvous order.
   *
   * @param membership the snapshot this selector was built for
   * @param keyHash the {@linkplain Selection#keyHash() key hash} of the selection that chose {@code
   *     chosen}, or {@link RoutingKey#ABSENT}
   */
  default List<Member> failoverCandidates(
      Membership membership, long keyHash, Member chosen, int limit) {
    return Candidates.leastLoaded(membership, chosen, limit);
  }

  /**
   * For selective re-homing: the member that owns a key with this hash under this selector's
   * snapshot, ignoring connection caps and loads, or null when the strategy does not route by key
   * hash (the default) or no member qualifies. Must be a pure function of the key hash.
   *
   * @param keyHash a key hash a {@link Selection} of this strategy carried, never {@link
   *     RoutingKey#ABSENT}
   */
  default @Nullable Member ownerOf(long keyHash) {
    return null;
  }

  /**
   * A cookie this strategy wants set when the client goes to {@code member} although this strategy
   * did not choose it (another strategy did, or a connect failover moved it), or null (the
   * default). The cookie strategy issues its cookie here.
   */
  default @Nullable SetCookie cookieFor(RoutingRequest request, Member member, Outcome outcome) {
    return null;
  }

  /**
   * Whether {@link #veto} can ever refuse a request; the router asks {@link #veto} only of
   * selectors that say so. False by default.
   */
  default boolean mayVeto() {
    return false;
  }

  /**
   * A {@linkplain Selection#reject rejection} that must stand whatever another strategy decided, or
   * null. The JWT strategy under {@link JwtAffinity.InvalidTokenPolicy#REJECT} refuses a present
   * but invalid token here, so that an earlier strategy (a valid cookie, say) cannot let an expired
   * or forged token through.
   */
  default @Nullable Selection veto(RoutingRequest request) {
    return null;
  }

  /**
   * Describes this request's key for {@link dev.affinity.RoutingDecision#explanation()}, for
   * example {@code client IP 203.0.113.7 from the TCP peer}, or null. Never reveals secrets.
   */
  default @Nullable String describeKey(RoutingRequest request) {
    return null;
  }
}
