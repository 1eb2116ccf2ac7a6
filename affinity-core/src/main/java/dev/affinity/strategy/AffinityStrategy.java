package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.math.IntMath;
import dev.affinity.AffinityConfigurationException;
import dev.affinity.RoutingRequest;
import dev.affinity.backend.Membership;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.hash.RendezvousTable;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/**
 * One way of choosing a backend. A {@link dev.affinity.Router} asks its strategies in order; each
 * either {@linkplain Selection#chosen chooses}, {@linkplain Selection#abstain abstains} (the next
 * one decides), or ends the decision with a {@linkplain Selection#reject rejection} or {@linkplain
 * Selection#noBackend no backend}. The router's fallback decides when all abstain.
 *
 * <p>The built-in strategies come from the static factories here. Hash strategies are pure
 * functions of (request, membership), so independent proxy instances with the same membership agree
 * without talking; load-aware ones ({@link #leastConnections()}, {@link #powerOfTwoChoices()},
 * {@link #boundedLoad}) and connection caps use this instance's own live counts, plus the other
 * instances' last reported counts when a fleet module shares them (see {@link
 * dev.affinity.backend.Member#fleetConnections()}).
 *
 * <p>Implementations must be thread-safe, must not block, and should not throw: a throwing strategy
 * is reported to the listener and treated as abstaining. They may only choose members of the
 * snapshot they were given, and never a {@link dev.affinity.backend.BackendState#DOWN DOWN} one.
 *
 * <p>Per-snapshot state belongs in a {@link Selector}, built by {@link #selector} once per
 * published snapshot; {@code docs/strategies.md} shows how to write one.
 */
public interface AffinityStrategy {
  /**
   * Chooses, abstains, rejects or answers "no backend" for {@code request} under {@code
   * membership}. The simple way to write a strategy: the default {@link #selector} calls it for
   * every request. A router never calls it on the built-in strategies, which build a {@link
   * Selector} per snapshot instead; called directly on them (in a test, say), it builds or reuses
   * the selector of the last snapshot it saw.
   */
  Selection select(RoutingRequest request, Membership membership);

  /**
   * A short name for explanations and metrics: what {@link dev.affinity.RoutingDecision#strategy()}
   * reports. The built-in ones: {@code cookie}, {@code jwt}, {@code learned}, {@code source-ip},
   * {@code rendezvous}, {@code rendezvous-table}, {@code source-ip-table}, {@code maglev}, {@code
   * bounded-load(<inner name>)}, {@code round-robin}, {@code least-connections} and {@code p2c}
   * (the router itself reports {@code router} when no strategy decided).
   */
  String name();

  /**
   * What this strategy's choices depend on besides the membership, as text: its name, and for the
   * table strategies the table size, which is part of their pinned hash (for example {@code
   * rendezvous-table buckets=4194304} or {@code maglev table=65537}). {@link
   * dev.affinity.Router#fingerprint()} covers it, so instances whose routers have equal
   * fingerprints see the same members and hash with the same parameters. Default: {@link #name()};
   * a custom strategy with a setting that changes which backend a key gets should include it.
   */
  default String decisionParameters() {
    return name();
  }

  /**
   * Turns a membership snapshot into this strategy's immutable {@link Selector}. A {@link
   * dev.affinity.Router} calls it exactly once per strategy for each snapshot the group publishes,
   * on the publishing thread, never on a request thread; concurrent selects only read what it
   * built. Build here everything that depends only on the snapshot (tables, sorted arrays, id
   * hashes).
   *
   * <p>{@code previous} is the selector this strategy built for the router's previous snapshot, or
   * null for the first: reuse what did not change (a table whose members and weights are unchanged,
   * say), so that a publish that changes nothing a strategy reads (a slow-start weight step for a
   * strategy that ignores weights) costs it next to nothing.
   *
   * <p>The default returns a selector that calls {@link #select(RoutingRequest, Membership)} with
   * {@code membership} for each request.
   *
   * @throws RuntimeException the router reports it to its listener and uses a selector that
   *     abstains
   */
  default Selector selector(Membership membership, @Nullable Selector previous) {
    requireNonNull(membership, "membership");
    return new Selectors.PerRequest(this, membership);
  }

  /**
   * Weighted rendezvous (highest random weight) hashing over {@code key}: each key goes to the
   * backend with the highest {@link RendezvousHash} score among UP members, so adding or removing a
   * backend moves only the keys that must move, and shares follow weights. A key whose owner is at
   * its connection cap spills to the next backend in the key's own order.
   *
   * <p>Selection costs one score per UP backend (a few nanoseconds each); past a few hundred
   * backends prefer a table strategy. <b>Do not use</b> it alone when keys are few or very skewed
   * (a handful of NAT addresses carrying most users): one backend will get a hot key's whole load;
   * wrap it in {@link #boundedLoad} or key on something finer.
   */
  static AffinityStrategy rendezvous(RoutingKey key) {
    return new RendezvousStrategy("rendezvous", requireNonNull(key, "key"));
  }

  /**
   * Maglev table consistent hashing over {@code key} with the default table of {@value
   * MaglevStrategy#DEFAULT_TABLE_SIZE} slots: {@link #maglev(RoutingKey, int)}.
   */
  static AffinityStrategy maglev(RoutingKey key) {
    return maglev(key, MaglevStrategy.DEFAULT_TABLE_SIZE);
  }

  /**
   * Maglev-style table consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of {@code
   * tableSize} slots, filled once per membership snapshot from UP members in proportion to their
   * weights, maps each key to a backend with one array read, whatever the number of backends.
   *
   * <p>Definition (its output is API, like {@link RendezvousHash}'s): backend {@code i}'s
   * permutation starts at {@code offset = (h >>> 32) mod M} and steps by {@code skip = (h mod 2^32)
   * mod (M - 1) + 1}, where {@code h = fmix64(idHash)} and M is the table size; backends, in id
   * order, take turns claiming the next free slot of their permutation, a backend of weight w
   * taking w/maxWeight turns per round; the key's slot is {@code floor(keyHash × M / 2^32)}. A key
   * whose owner is at its cap spills, and failover candidates run, in the key's rendezvous order.
   *
   * <p>Use it for large pools (hundreds to thousands of backends), where {@link #rendezvous}'s
   * one-score-per-backend cost grows. <b>Do not use</b> it where stickiness across membership
   * changes matters most, or for small pools: unlike rendezvous, which moves exactly the keys that
   * must move, a Maglev table also reshuffles some slots between unchanged backends. Removing or
   * adding one of n equal backends moves the 1/n of the keys that must move plus up to about 1% of
   * all keys more (measured up to 1.03% at 400 backends with the default table; the properties
   * check 1/n + 2%; {@code docs/benchmarks.md} has the curves). With equal weights each backend
   * gets {@code floor(M/n)} or {@code ceil(M/n)} slots, so keep {@code tableSize} at least 100
   * times the number of backends for 1% balance; the default suits up to about 650. Each rebuild
   * costs O(M log M) time, once per membership change, and the table takes 4 × M bytes.
   *
   * @param tableSize a prime from 1,009 to 16,777,259 (Maglev needs a prime so every step visits
   *     every slot); 65,537 and 655,373 are the paper's choices
   * @throws AffinityConfigurationException if {@code tableSize} is out of range or not prime
   */
  static AffinityStrategy maglev(RoutingKey key, int tableSize) {
    requireNonNull(key, "key");
    check(
        tableSize >= 1009 && tableSize <= 16_777_259 && IntMath.isPrime(tableSize),
        "tableSize",
        tableSize,
        "a prime from 1009 to 16777259");
    return new MaglevStrategy(key, tableSize);
  }

  /**
   * The rendezvous table over {@code key} with the default {@value RendezvousTable#DEFAULT_BUCKETS}
   * buckets: {@link #rendezvousTable(RoutingKey, int)}.
   */
  static AffinityStrategy rendezvousTable(RoutingKey key) {
    return rendezvousTable(key, RendezvousTable.DEFAULT_BUCKETS);
  }

  /**
   * The rendezvous table: rendezvous hashing's exactly minimal disruption at a table's constant
   * cost. A key hashes to one of {@code buckets} fixed buckets, and each bucket belongs to its
   * weighted rendezvous winner among UP members, so a select is one key hash and one array read
   * whatever the number of backends, and:
   *
   * <ul>
   *   <li>removing a backend, or marking it DOWN, moves exactly the keys it had;
   *   <li>adding one moves keys only to it, about {@code 1/(n+1)} of them;
   *   <li>shares follow weights; a key whose owner is at its cap spills, and failover candidates
   *       run, in its bucket's rendezvous order.
   * </ul>
   *
   * <pre>{@code
   * AffinityStrategy byUser = AffinityStrategy.rendezvousTable(RoutingKey.header("X-User-Id"));
   * }</pre>
   *
   * <p>The definition is in {@link RendezvousTable}; like {@link #rendezvous}'s, its output is API,
   * and the bucket count is part of it: instances agree only with the same members, weights and
   * {@code buckets}.
   *
   * <p>Use it for large pools (hundreds to thousands of backends) where both stickiness and select
   * cost matter: it routes like {@link #rendezvous} at a cost that does not grow with n, and unlike
   * {@link #maglev} it never reshuffles keys between backends that did not change. <b>Do not
   * use</b> it for small pools with tight memory, or where membership is built from scratch often:
   * the table takes {@code buckets} bytes up to 256 backends ({@code 2 × buckets} up to 65,536),
   * the first table costs one score per bucket and backend ({@code n × buckets}: seconds for a
   * thousand backends at the default size), and each later change costs {@code O(buckets)}
   * (milliseconds). Balance is binomial in the buckets: with n equal backends the busiest gets
   * about {@code 1 + 3.3 × sqrt(n / buckets)} times the mean share of buckets, so keep {@code
   * buckets} at least a thousand times n for a few percent.
   *
   * @param buckets a power of two from {@value RendezvousTable#MIN_BUCKETS} to {@value
   *     RendezvousTable#MAX_BUCKETS}
   * @throws AffinityConfigurationException if {@code buckets} is out of range or not a power of two
   */
  static AffinityStrategy rendezvousTable(RoutingKey key, int buckets) {
    requireNonNull(key, "key");
    checkBuckets(buckets);
    return new RendezvousTableStrategy("rendezvous-table", key, buckets);
  }

  /**
   * The rendezvous table over the client address as resolved by {@code resolver}: {@link
   * #sourceIp(ClientAddressResolver)}'s key with {@link #rendezvousTable(RoutingKey, int)}'s
   * constant cost and the default bucket count. The same cautions as {@link #sourceIp} apply to
   * clients behind a shared address.
   */
  static AffinityStrategy sourceIpTable(ClientAddressResolver resolver) {
    return sourceIpTable(resolver, RendezvousTable.DEFAULT_BUCKETS);
  }

  /**
   * The source-IP rendezvous table with {@code buckets} buckets.
   *
   * @throws AffinityConfigurationException if {@code buckets} is out of range or not a power of two
   */
  static AffinityStrategy sourceIpTable(ClientAddressResolver resolver, int buckets) {
    RoutingKey key = RoutingKey.clientIp(requireNonNull(resolver, "resolver"));
    checkBuckets(buckets);
    return new RendezvousTableStrategy("source-ip-table", key, buckets);
  }

  private static void checkBuckets(int buckets) {
    check(
        buckets >= RendezvousTable.MIN_BUCKETS
            && buckets <= RendezvousTable.MAX_BUCKETS
            && Integer.bitCount(buckets) == 1,
        "buckets",
        buckets,
        "a power of two from "
            + RendezvousTable.MIN_BUCKETS
            + " to "
            + RendezvousTable.MAX_BUCKETS);
  }

  /**
   * Source-IP hash: rendezvous over the client address as resolved by {@code resolver}, which
   * decides which forwarded headers to trust.
   *
   * <p><b>Do not use</b> it as the only affinity when many clients share an address (offices,
   * carrier-grade NAT, mobile networks): they all land on one backend. Prefer a cookie or token,
   * and keep source IP as the fallback.
   */
  static AffinityStrategy sourceIp(ClientAddressResolver resolver) {
    return new RendezvousStrategy("source-ip", RoutingKey.clientIp(resolver));
  }

  /** Source-IP hash over the TCP peer address, trusting no forwarded header. */
  static AffinityStrategy sourceIp() {
    return sourceIp(ClientAddressResolver.direct());
  }

  /**
   * Learned affinity ("sticky learn"): the backend's own session value (a cookie or header it sets
   * on its 101 response, such as {@code JSESSIONID} or a room id) is remembered in {@code store} as
   * value → backend id, and a later handshake carrying the value goes back to that backend if it
   * may take a returning client (UP, or DRAINING before its deadline, and under its cap).
   * Otherwise, or when the value is unknown or the store cannot answer within its budget, it
   * abstains and the next strategy decides. The adapter teaches it through {@link
   * LearnedAffinity#learn}. {@link LearnedStore#inMemory} serves one instance; {@code
   * affinity-redis} has a store a fleet shares.
   *
   * <p>Drain deadlines are read on the group's clock; the store's own expiry (its TTL) on the clock
   * given to the store ({@link LearnedStore#inMemory(byte[], java.time.Duration, InstantSource)}:
   * pass the group's).
   *
   * <p><b>Do not use</b> it when affinity can be derived from the request alone (a cookie you
   * issue, a token claim, the client address): those need no store and no lookup.
   */
  static LearnedAffinity learned(LearnedStore store, LearnedCarrier carrier) {
    return new LearnedAffinity(
        requireNonNull(store, "store"), requireNonNull(carrier, "carrier"), null);
  }

  /**
   * Learned affinity reading drain deadlines on {@code clock}.
   *
   * @deprecated drain deadlines are read on the group's clock: use {@link #learned(LearnedStore,
   *     LearnedCarrier)}. A clock given here must be the group's: a router over a group with
   *     another clock refuses to build ({@link AffinityConfigurationException} naming both).
   */
  @Deprecated
  static LearnedAffinity learned(LearnedStore store, LearnedCarrier carrier, InstantSource clock) {
    return new LearnedAffinity(
        requireNonNull(store, "store"),
        requireNonNull(carrier, "carrier"),
        requireNonNull(clock, "clock"));
  }

  /**
   * Weighted round robin (smooth, as NGINX's) over UP backends with room: no affinity, even spread.
   * Counts are per instance.
   */
  static AffinityStrategy roundRobin() {
    return new RoundRobinStrategy();
  }

  /**
   * Least connections, weighted: the UP backend with the fewest live connections per unit of
   * weight; ties rotate. The best first pick for long-lived WebSockets, since connections do not
   * finish on their own. Counts are per proxy instance, so several instances only approximate it.
   */
  static AffinityStrategy leastConnections() {
    return new LeastConnectionsStrategy();
  }

  /**
   * Power of two choices: the less loaded (per unit of weight) of two random UP backends. Nearly as
   * even as least connections, and it avoids herding when several proxy instances each see stale
   * counts.
   */
  static AffinityStrategy powerOfTwoChoices() {
    return new PowerOfTwoChoicesStrategy();
  }

  /**
   * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam): routes like {@code
   * hashStrategy}, but no backend takes a new connection that would bring it above {@code
   * ceil(factor × (live + 1) × weight / total weight)}; an overflowing key walks its own rendezvous
   * order, so spill-over is still deterministic for a given load. {@code live} is the sum of {@link
   * dev.affinity.backend.Member#fleetConnections()} over the UP members (this instance's exact
   * count, plus what the other instances of a fleet last reported), {@code weight} the backend's
   * {@linkplain dev.affinity.backend.Member#effectiveWeight() effective weight} and {@code total
   * weight} that of all UP members: {@code factor} times the weighted average load after placing
   * this connection. A backend is full when its load is not below its bound.
   *
   * <p>{@code factor} trades balance for stickiness: 1.25 keeps every backend within 25% of the
   * average. Without a fleet the counts are this instance's own, so instances may spill
   * differently.
   *
   * <p>Over {@link #maglev} the first choice is the key's table owner and spill-over walks the
   * key's rendezvous order; over a {@link #rendezvousTable rendezvous table} the owner is the key's
   * bucket owner and spill-over walks the bucket's rendezvous order.
   *
   * @param hashStrategy a strategy from {@link #rendezvous}, {@link #sourceIp}, {@link #maglev},
   *     {@link #rendezvousTable} or {@link #sourceIpTable}
   * @param factor from 1.0 to 100.0
   * @throws AffinityConfigurationException if {@code hashStrategy} is not one of those or the
   *     factor is out of range
   */
  static AffinityStrategy boundedLoad(AffinityStrategy hashStrategy, double factor) {
    requireNonNull(hashStrategy, "hashStrategy");
    check(
        hashStrategy instanceof HashStrategy,
        "hashStrategy",
        hashStrategy.name(),
        "a strategy from rendezvous(key), sourceIp(...), maglev(key), rendezvousTable(key) or"
            + " sourceIpTable(...)");
    check(factor >= 1.0 && factor <= 100.0, "factor", factor, "1.0..100.0");
    return new BoundedLoadStrategy((HashStrategy) hashStrategy, factor);
  }

  /**
   * Signed cookie affinity: a client that presents a valid affinity cookie goes back to the backend
   * it names; any other client is left to the next strategy, and the cookie strategy then issues a
   * cookie naming whatever backend was chosen (by the fallback, on failover, or on spill-over under
   * bounded load), so the client returns there next time.
   *
   * <pre>{@code
   * Router router = Router.builder(group)
   *     .strategy(AffinityStrategy.cookie(CookieAffinity.builder(keys).build()))
   *     .fallback(AffinityStrategy.leastConnections())
   *     .build();
   * }</pre>
   *
   * <p>The value is opaque: a format version, the key id, a keyed hash of the backend id (never its
   * address), the issue time and a spill flag, MAC-protected with HMAC-SHA256. Forged, truncated,
   * expired (by {@link CookieAffinity#maxAge()}, enforced here) or unknown-key cookies abstain as
   * "invalid"; a valid one naming a removed, DOWN, full or drained-past-deadline backend abstains
   * as "affinity lost", which makes the decision a {@link dev.affinity.Outcome#FAILOVER}. A
   * DRAINING backend keeps its returning clients until its drain deadline. Cookie values never
   * appear in reasons or explanations.
   *
   * <p><b>Do not use</b> it for clients that keep no cookies and cannot send the value back in a
   * {@linkplain CookieAffinity.Builder#header header} or {@linkplain
   * CookieAffinity.Builder#queryParameter query parameter}: every connection would be a first
   * assignment. A cookie proves only that this proxy once placed the bearer, not who the bearer is.
   */
  static AffinityStrategy cookie(CookieAffinity config) {
    return new CookieStrategy(requireNonNull(config, "config"));
  }

  /**
   * JWT affinity: the token is found in the configured {@linkplain TokenSource sources}, verified
   * with java-jwt against exactly the configured algorithm and key (issuer, audience, expiry and
   * not-before with leeway), and then either its claims become a rendezvous key (same claims, same
   * backend — a refreshed token keeps its backend) or one claim names the backend directly.
   *
   * <pre>{@code
   * AffinityStrategy byUser = AffinityStrategy.jwt(
   *     JwtAffinity.builder(JwtAlgorithm.ES256, issuerKey).issuer(issuer).audience("chat").build());
   * }</pre>
   *
   * <p>No token: abstain. An invalid token (malformed, oversized, wrong algorithm including {@code
   * none}, bad signature, expired, not yet valid, wrong issuer or audience, missing routing claim):
   * {@link dev.affinity.Outcome#REJECTED} (401) or abstain, by {@link
   * JwtAffinity.Builder#invalidToken policy}. Verified tokens are cached by their exact text until
   * they expire, so a reconnect with the same token costs a cache lookup. Tokens and claim values
   * never appear in reasons or explanations: the key is shown as a hash.
   *
   * <p><b>Do not use</b> it as authentication: it decides where a connection goes, and the backend
   * must still authorise it. Do not key on a claim that changes on every refresh ({@code jti},
   * {@code iat}): the client would move on every reconnect.
   */
  static AffinityStrategy jwt(JwtAffinity config) {
    return new JwtStrategy(requireNonNull(config, "config"));
  }
}
