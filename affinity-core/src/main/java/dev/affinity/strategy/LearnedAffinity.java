package dev.affinity.strategy;

import static java.util.Objects.requireNonNull;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Backend;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.lang.System.Logger.Level;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Learned affinity ("sticky learn"): a value the backend itself sets in its 101 response (its
 * session cookie, a room id header) is remembered as value → backend id, and a later handshake that
 * carries the value goes back to that backend. Made by {@link AffinityStrategy#learned}.
 *
 * <p>Two halves: {@link #select} (a strategy in the router's chain) looks the request's value up in
 * the {@link LearnedStore} and chooses that backend if it may take a returning client, otherwise
 * abstains; {@link #learn} is called when the backend has answered 101 and holds what it learned
 * until the tunnel ends, so the store keeps it while it is in use.
 *
 * <pre>{@code
 * LearnedAffinity learned = AffinityStrategy.learned(
 *     LearnedStore.inMemory(hmacKey, Duration.ofHours(1)), LearnedCarrier.cookie("JSESSIONID"));
 * Router router = Router.builder(group).strategy(learned).fallback(AffinityStrategy.leastConnections()).build();
 * // after the backend's 101, with its response headers:
 * LearnedStore.Hold hold = learned.learn(request, decision.backend(), responseHeaders::getAll);
 * // ... and hold.close() when the tunnel ends
 * }</pre>
 *
 * <p><b>Do not use</b> it when the value can be derived from the request alone (a token claim, a
 * cookie you issue): a hash or {@link AffinityStrategy#cookie cookie} strategy needs no store and
 * no lookup. A lookup that the store cannot answer within its budget abstains, so place a hash
 * strategy after it.
 */
public final class LearnedAffinity implements AffinityStrategy {
  private static final System.Logger LOG = System.getLogger(LearnedAffinity.class.getName());
  private static final Selection ABSENT = Selection.abstain("no learned value");
  private static final Selection UNKNOWN = Selection.abstain("learned value unknown or expired");
  private static final Selection GONE =
      Selection.affinityLost("learned value names a backend that is no longer a member");
  private static final LearnedStore.Hold NOTHING = () -> {};

  private final LearnedStore store;
  private final LearnedCarrier carrier;
  private final @Nullable InstantSource clock;
  private final LongAdder lookupFailures = new LongAdder();
  private final LongAdder learnFailures = new LongAdder();

  LearnedAffinity(LearnedStore store, LearnedCarrier carrier, @Nullable InstantSource clock) {
    this.store = store;
    this.carrier = carrier;
    this.clock = clock;
  }

  /**
   * The per-request selector, after checking that a clock given to the deprecated {@link
   * AffinityStrategy#learned(LearnedStore, LearnedCarrier, InstantSource)} is the group's.
   *
   * @throws AffinityConfigurationException if it is another clock, naming both
   */
  @Override
  public Selector selector(Membership membership, @Nullable Selector previous) {
    GroupClock.of(clock, membership, "learned(store, carrier, clock)");
    return AffinityStrategy.super.selector(membership, previous);
  }

  /** Drain deadlines are read on the snapshot's (the group's) clock. */
  @Override
  public Selection select(RoutingRequest request, Membership membership) {
    String value = carrier.fromRequest(request);
    if (value == null) {
      return ABSENT;
    }
    String id;
    try {
      id = store.lookup(value);
    } catch (RuntimeException e) {
      lookupFailures.increment();
      LOG.log(Level.DEBUG, "learned store " + store + " threw; abstaining", e);
      return UNKNOWN;
    }
    if (id == null) {
      return UNKNOWN;
    }
    Member m = membership.member(id);
    if (m == null) {
      return GONE;
    }
    String refusal = Returning.refusal(m, membership.clock().millis());
    if (refusal == null) {
      return Selection.chosen(m, Outcome.AFFINITY_HIT, "learned value names " + id);
    }
    return Selection.affinityLost("learned value names " + id + " " + refusal);
  }

  /**
   * Learns from a backend's 101 response: the value the response sets (or, if it sets none, the
   * value the request carried), now mapped to {@code backend}, and held until the returned hold is
   * closed. Adapters call it once per opened tunnel and close the hold when the tunnel ends.
   *
   * @param request the handshake
   * @param backend the backend that answered 101
   * @param responseHeaders the response's values of a header name (any case), empty when absent
   * @return the hold; a no-op one when there was nothing to learn
   */
  public LearnedStore.Hold learn(
      RoutingRequest request, Backend backend, Function<String, List<String>> responseHeaders) {
    requireNonNull(request, "request");
    requireNonNull(backend, "backend");
    String value = carrier.fromResponse(responseHeaders);
    if (value == null) {
      value = carrier.fromRequest(request);
    }
    if (value == null) {
      return NOTHING;
    }
    try {
      return store.hold(value, backend.id());
    } catch (RuntimeException e) {
      learnFailures.increment();
      LOG.log(Level.WARNING, "learned store " + store + " threw; value not learned", e);
      return NOTHING;
    }
  }

  /**
   * Lookups the store failed with an exception (the strategy abstained). A store's own budget
   * misses, answered as null, are not counted here: the store counts those.
   */
  public long lookupFailures() {
    return lookupFailures.sum();
  }

  /** Values not learned because the store threw (the handshake went on without them). */
  public long learnFailures() {
    return learnFailures.sum();
  }

  /** Where the value travels. */
  public LearnedCarrier carrier() {
    return carrier;
  }

  /** The store. */
  public LearnedStore store() {
    return store;
  }

  @Override
  public String name() {
    return "learned";
  }

  @Override
  public String toString() {
    return "AffinityStrategy.learned(" + store + ", " + carrier + ")";
  }
}
