package dev.affinity.hash;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The rendezvous table: a pinned hash with one array read per key and exactly minimal disruption.
 *
 * <p><b>Its output is API</b>, like {@link RendezvousHash}'s: proxy instances with the same UP
 * members, weights and bucket count {@code M} agree on every key. The definition, with golden
 * vectors in {@code docs/hashing.md}:
 *
 * <ol>
 *   <li>{@code M}, the number of buckets, is a power of two from {@value #MIN_BUCKETS} to {@value
 *       #MAX_BUCKETS}; the default is {@value #DEFAULT_BUCKETS} (2<sup>22</sup>).
 *   <li>A key's bucket is {@code floor(keyHash × M / 2^32)}, the top {@code log2(M)} bits of its
 *       unsigned 32-bit {@link RendezvousHash#keyHash key hash}. It never depends on the members.
 *   <li>Bucket {@code b}'s owner is the <em>weighted</em> rendezvous winner for the key hash {@code
 *       b}: the member with the highest {@code weight / -ln(u)}, where {@code u = ((score >>> 11) +
 *       0.5) / 2^53} and {@code score = }{@link RendezvousHash#score score(b, idHash)}; ties, which
 *       need equal doubles, go to the smaller id. The weighted rule applies even when all weights
 *       are equal, so that a weight change never switches rules.
 *   <li>A bucket's failover and spill-over order is its members sorted by the same weighted score,
 *       best first.
 * </ol>
 *
 * <p>Because a key's bucket is fixed and each bucket follows rendezvous hashing, removing a member
 * moves exactly the keys of the buckets it owned, and adding one moves keys only to the newcomer:
 * minimal disruption holds exactly, not approximately. Balance follows the bucket count: a member's
 * share of buckets is binomial, so its load has a relative standard deviation of about {@code
 * sqrt(n / M)} on top of the keys' own; the default suits up to about 1,000 equal members within
 * 12% max/mean.
 *
 * <p><b>Cost.</b> A lookup is one shift and one array read. The owner array holds a member's slot,
 * in the smallest integer type that holds every slot: {@code M} bytes up to 256 members, {@code 2M}
 * up to 65,536, {@code 4M} above; a second array of the same type records each bucket's runner-up
 * (the next member in its rendezvous order), which lookups never read. {@link #build Building} from
 * nothing costs one score per (bucket, member) pair, {@code n × M}, split across the common {@link
 * java.util.concurrent.ForkJoinPool} when large. {@link #update Updating} from the previous table
 * copies both arrays and touches only the buckets whose owner or runner-up can change: a removed
 * member's buckets go to their recorded runner-up with no score at all, and their new runner-up,
 * like that of the buckets whose runner-up left, is then not known; only a bucket whose owner
 * leaves while its runner-up is not known is rescored over all {@code n} members. An added member,
 * or one whose weight grew, costs one score per bucket plus an exact comparison for the few buckets
 * where it could become the owner or the runner-up; a member whose weight shrank has its own
 * buckets rescored. Tables are immutable and safe to share; an update returns a new table and
 * leaves this one as it was.
 */
public final class RendezvousTable {
  /** The default bucket count, 2<sup>22</sup> = 4,194,304. */
  public static final int DEFAULT_BUCKETS = 1 << 22;

  /** The smallest bucket count, 2<sup>8</sup>. */
  public static final int MIN_BUCKETS = 1 << 8;

  /** The largest bucket count, 2<sup>26</sup>. */
  public static final int MAX_BUCKETS = 1 << 26;

  private static final double TWO_POW_MINUS_53 = 0x1.0p-53;

  /**
   * Relative margin for the log-free bounds: far larger than the rounding of {@code Math.log} and
   * the divisions, so a comparison skipped on a bound is one the exact rule would also lose.
   */
  private static final double MARGIN = 1 - 1e-9;

  private static final String[] NO_IDS = new String[0];

  /** Fills of at least this many (bucket, member) pairs run in parallel. */
  private static final long PARALLEL_PAIRS = 1L << 26;

  private final int buckets;
  private final int shift;
  // Members in ascending id order ("dense" indices), and the slot each one's buckets record.
  private final String[] ids;
  private final long[] idHashes;
  private final double[] weights;
  private final int[] slotOf;
  // By slot: the member's dense index, or -1 for a free slot.
  private final int[] denseOf;
  private final boolean uniform;

  /**
   * A lower bound on the weighted score of every bucket owner and every known runner-up: a
   * challenger below it changes nothing.
   */
  private final double floor;

  private final byte @Nullable [] byteOwners;
  private final short @Nullable [] shortOwners;
  private final int @Nullable [] intOwners;

  /**
   * Each bucket's runner-up: the slot of the member next in its rendezvous order, in the owner
   * array's type; the owner's own slot when not known. Lookups never read it.
   */
  private final Owners runners;

  private RendezvousTable(
      int buckets,
      String[] ids,
      long[] idHashes,
      double[] weights,
      int[] slotOf,
      int[] denseOf,
      double floor,
      Owners owners,
      Owners runners) {
    this.buckets = buckets;
    this.shift = 32 - Integer.numberOfTrailingZeros(buckets);
    this.ids = ids;
    this.idHashes = idHashes;
    this.weights = weights;
    this.slotOf = slotOf;
    this.denseOf = denseOf;
    this.uniform = isUniform(weights);
    this.floor = floor;
    this.byteOwners = owners.bytes;
    this.shortOwners = owners.shorts;
    this.intOwners = owners.ints;
    this.runners = runners;
  }

  /**
   * An empty table of {@code buckets} buckets, to {@link #update} from.
   *
   * @param buckets a power of two from {@value #MIN_BUCKETS} to {@value #MAX_BUCKETS}
   * @throws IllegalArgumentException if {@code buckets} is out of range
   */
  public static RendezvousTable empty(int buckets) {
    checkBuckets(buckets);
    return new RendezvousTable(
        buckets,
        NO_IDS,
        new long[0],
        new double[0],
        new int[0],
        new int[0],
        Double.POSITIVE_INFINITY,
        Owners.NONE,
        Owners.NONE);
  }

  /**
   * Builds the table of {@code buckets} buckets for members {@code ids} with {@code weights}, from
   * nothing: {@code ids.length × buckets} scores. Prefer {@link #update} from the previous table
   * when one exists.
   *
   * @param buckets a power of two from {@value #MIN_BUCKETS} to {@value #MAX_BUCKETS}
   * @param ids the members' ids, sorted ascending ({@link String#compareTo}) and distinct; may be
   *     empty, which gives a table that owns nothing
   * @param weights each member's weight, positive and finite, in the order of {@code ids}
   * @throws IllegalArgumentException if an argument is out of range, unsorted or mismatched
   */
  public static RendezvousTable build(int buckets, String[] ids, double[] weights) {
    return empty(buckets).update(ids, weights);
  }

  /**
   * The table for a new set of members, derived from this one: only the buckets whose owner can
   * change are touched, and the result equals {@link #build build(buckets(), ids, weights)}.
   *
   * @param ids the new members' ids, sorted ascending and distinct
   * @param weights their weights, positive and finite
   * @throws IllegalArgumentException if an argument is unsorted or mismatched
   */
  public RendezvousTable update(String[] ids, double[] weights) {
    String[] newIds = checkMembers(ids, weights);
    double[] newWeights = weights.clone();
    int n = newIds.length;
    int old = this.ids.length;
    if (n == 0) {
      return empty(buckets);
    }
    long[] newHashes = new long[n];
    int[] newSlotOf = new int[n];
    // Slots of members that left or weakened: their buckets are recomputed over all new members.
    boolean[] recompute = new boolean[Math.max(denseOf.length, 1)];
    // Slots of members that left: their buckets go to the runner-up where it is known and stays.
    boolean[] removed = new boolean[recompute.length];
    boolean anyRecompute = false;
    int[] challengers = new int[n]; // dense indices of members that were added or grew
    int challengerCount = 0;
    int[] added = new int[n];
    int addedCount = 0;
    boolean changed = n != old;
    int i = 0;
    int j = 0;
    while (i < n || j < old) {
      int c = i == n ? 1 : j == old ? -1 : newIds[i].compareTo(this.ids[j]);
      if (c < 0) {
        newHashes[i] = RendezvousHash.idHash(newIds[i]);
        added[addedCount++] = i;
        challengers[challengerCount++] = i++;
        changed = true;
      } else if (c > 0) {
        removed[slotOf[j]] = true;
        recompute[slotOf[j++]] = true;
        anyRecompute = true;
        changed = true;
      } else {
        newHashes[i] = this.idHashes[j];
        newSlotOf[i] = slotOf[j];
        if (newWeights[i] < this.weights[j]) {
          recompute[slotOf[j]] = true;
          anyRecompute = true;
          changed = true;
        } else if (newWeights[i] > this.weights[j]) {
          challengers[challengerCount++] = i;
          changed = true;
        }
        i++;
        j++;
      }
    }
    if (!changed) {
      return this;
    }
    // Slots: kept members keep theirs; added ones take the lowest free slots.
    int capacity = Math.max(denseOf.length, n);
    int[] newDenseOf = new int[capacity];
    Arrays.fill(newDenseOf, -1);
    for (int k = 0; k < n; k++) {
      if (!isAdded(k, added, addedCount)) {
        newDenseOf[newSlotOf[k]] = k;
      }
    }
    int free = 0;
    for (int a = 0; a < addedCount; a++) {
      while (newDenseOf[free] >= 0) {
        free++;
      }
      newSlotOf[added[a]] = free;
      newDenseOf[free] = added[a];
    }
    int width = Owners.widthFor(capacity);
    Owners owners = old == 0 ? Owners.allocate(width, buckets) : ownerArray().copy(width, buckets);
    Owners newRunners = old == 0 ? Owners.allocate(width, buckets) : runners.copy(width, buckets);
    double newFloor = floor;
    boolean newUniform = isUniform(newWeights);
    if (old == 0) {
      newFloor = fill(owners, newRunners, newHashes, newWeights, newSlotOf, newUniform);
    } else {
      if (anyRecompute) {
        // The buckets a removed or weakened member owns or is the runner-up of, found with one
        // comparison per array and bucket when one member changed, a flag per slot otherwise.
        int only = onlySet(recompute);
        for (int b = owners.next(0, only, recompute, newRunners);
            b >= 0;
            b = owners.next(b + 1, only, recompute, newRunners)) {
          int o = owners.get(b);
          int r = newRunners.get(b);
          if (!isSet(o, recompute)) {
            newRunners.set(b, o); // the runner-up left or weakened: the next one is not known
          } else if (isSet(o, removed) && r != o && !isSet(r, recompute)) {
            // The owner left and its runner-up stays: exactly the new owner, no scores needed.
            owners.set(b, r);
            newRunners.set(b, r);
            int d = newDenseOf[r];
            newFloor = Math.min(newFloor, lowerBound(b, newHashes[d], newWeights[d]));
          } else {
            long top =
                newUniform
                    ? scanUniform(b, newHashes, newWeights[0], n)
                    : scan(b, newHashes, newWeights, n);
            int d = (int) (top >>> 32);
            int e = (int) top;
            owners.set(b, newSlotOf[d]);
            newRunners.set(b, newSlotOf[e]);
            newFloor =
                Math.min(
                    newFloor,
                    Math.min(
                        lowerBound(b, newHashes[d], newWeights[d]),
                        lowerBound(b, newHashes[e], newWeights[e])));
          }
        }
      }
      // Challengers not yet applied: a strengthened one sits where its old weight put it.
      boolean[] pending = new boolean[capacity];
      for (int k = 0; k < challengerCount; k++) {
        pending[newSlotOf[challengers[k]]] = true;
      }
      for (int k = 0; k < challengerCount; k++) {
        pending[newSlotOf[challengers[k]]] = false;
        challenge(
            owners,
            newRunners,
            pending,
            challengers[k],
            newIds,
            newHashes,
            newWeights,
            newSlotOf,
            newDenseOf,
            newFloor);
      }
    }
    return new RendezvousTable(
        buckets,
        newIds,
        newHashes,
        newWeights,
        newSlotOf,
        newDenseOf,
        newFloor,
        owners,
        newRunners);
  }

  private static boolean isSet(int slot, boolean[] flags) {
    return slot < flags.length && flags[slot];
  }

  /**
   * Fills every bucket's owner and runner-up from scratch, {@code n × M} scores. Large fills are
   * split into ranges of buckets run in parallel on the common {@link
   * java.util.concurrent.ForkJoinPool}: each bucket is computed independently, so the result does
   * not depend on the split.
   *
   * @return a lower bound on every owner's and runner-up's weighted score
   */
  private double fill(
      Owners owners,
      Owners runners,
      long[] hashes,
      double[] weights,
      int[] slotOf,
      boolean uniform) {
    int n = hashes.length;
    int ranges = (long) n * buckets < PARALLEL_PAIRS ? 1 : Math.min(64, buckets / MIN_BUCKETS);
    int per = buckets / ranges;
    double[] floors = new double[ranges];
    java.util.stream.IntStream stream = java.util.stream.IntStream.range(0, ranges);
    (ranges > 1 ? stream.parallel() : stream)
        .forEach(
            r -> {
              double f = Double.POSITIVE_INFINITY;
              for (int b = r * per, end = b + per; b < end; b++) {
                long top =
                    uniform ? scanUniform(b, hashes, weights[0], n) : scan(b, hashes, weights, n);
                int d = (int) (top >>> 32);
                int e = (int) top;
                owners.set(b, slotOf[d]);
                runners.set(b, slotOf[e]);
                f = Math.min(f, lowerBound(b, hashes[d], weights[d]));
                f = Math.min(f, lowerBound(b, hashes[e], weights[e]));
              }
              floors[r] = f;
            });
    double floor = Double.POSITIVE_INFINITY;
    for (double f : floors) {
      floor = Math.min(floor, f);
    }
    return floor;
  }

  /** The one index of {@code flags} that is set, or -1 if more than one is. */
  private static int onlySet(boolean[] flags) {
    int only = -1;
    for (int i = 0; i < flags.length; i++) {
      if (flags[i]) {
        if (only >= 0) {
          return -1;
        }
        only = i;
      }
    }
    return only;
  }

  private static boolean isAdded(int dense, int[] added, int count) {
    // added[] is ascending: a binary search keeps a large addition linear-logarithmic.
    return Arrays.binarySearch(added, 0, count, dense) >= 0;
  }

  /**
   * Gives member {@code c} every bucket where it beats the owner (the owner becomes the runner-up),
   * and makes it the runner-up where it beats only a known runner-up. {@code floor} bounds every
   * owner's and known runner-up's score from below, so a bucket where even {@code c}'s upper bound
   * {@code w / (1 - u)} falls short costs one score and one comparison. {@code pending} marks the
   * slots of challengers not applied yet.
   */
  private void challenge(
      Owners owners,
      Owners runners,
      boolean[] pending,
      int c,
      String[] ids,
      long[] hashes,
      double[] weights,
      int[] slotOf,
      int[] denseOf,
      double floor) {
    long idHash = hashes[c];
    double wc = weights[c];
    int slot = slotOf[c];
    // c's upper bound wc / (1 - u) reaches floor * MARGIN only if u >= 1 - wc / (floor * MARGIN).
    long raw = rawFloor(floor, wc);
    for (int b = 0; b < buckets; b++) {
      long s = RendezvousHash.score(b, idHash);
      if ((s ^ Long.MIN_VALUE) < raw) {
        continue;
      }
      int os = owners.get(b);
      if (os == slot) {
        continue;
      }
      int rs = runners.get(b);
      // A known runner-up is compared first: most challengers that pass the floor lose to it, and
      // so to the owner as well, in one comparison. Not a pending one: its place in the bucket
      // still follows its old weight, so losing to it says nothing about the owner.
      if (rs != os
          && rs != slot
          && !pending[rs]
          && !beats(b, c, denseOf[rs], ids, hashes, weights)) {
        continue;
      }
      if (beats(b, c, denseOf[os], ids, hashes, weights)) {
        owners.set(b, slot);
        runners.set(b, os);
      } else if (rs != os) {
        runners.set(b, slot);
      }
    }
  }

  /** The bucket of a key hash (an unsigned 32-bit number): {@code floor(keyHash × M / 2^32)}. */
  public static int bucket(long keyHash, int buckets) {
    checkBuckets(buckets);
    return (int) ((keyHash & 0xffff_ffffL) >>> (32 - Integer.numberOfTrailingZeros(buckets)));
  }

  /**
   * The slot of the member that owns the key with this hash: one shift and one array read. Slots
   * are this table's internal numbering of members, stable across {@link #update updates} while a
   * member stays; {@link #slotId} names the member.
   *
   * @param keyHash an unsigned 32-bit key hash from {@link RendezvousHash#keyHash}
   * @return the owner's slot, or -1 if the table has no members
   */
  public int ownerSlot(long keyHash) {
    return owner((int) ((keyHash & 0xffff_ffffL) >>> shift));
  }

  /**
   * The slot of bucket {@code bucket}'s owner, or -1 if the table has no members.
   *
   * @throws IndexOutOfBoundsException if {@code bucket} is not in {@code [0, buckets())}
   */
  public int owner(int bucket) {
    byte[] b = byteOwners;
    if (b != null) {
      return b[bucket] & 0xff;
    }
    short[] s = shortOwners;
    if (s != null) {
      return s[bucket] & 0xffff;
    }
    int[] i = intOwners;
    if (i != null) {
      return i[bucket];
    }
    checkBucket(bucket);
    return -1;
  }

  /**
   * The id of the member that owns this key hash, or null if the table has no members.
   *
   * @param keyHash an unsigned 32-bit key hash from {@link RendezvousHash#keyHash}
   */
  public @Nullable String ownerId(long keyHash) {
    int s = ownerSlot(keyHash);
    return s < 0 ? null : ids[denseOf[s]];
  }

  /**
   * The id of the member in {@code slot}, or null if the slot is free.
   *
   * @throws IndexOutOfBoundsException if {@code slot} is not in {@code [0, slotCount())}
   */
  public @Nullable String slotId(int slot) {
    int d = denseOf[slot];
    return d < 0 ? null : ids[d];
  }

  /**
   * The slot of the member at {@code index} in ascending id order.
   *
   * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())}
   */
  public int slot(int index) {
    return slotOf[index];
  }

  /** The number of slots, free ones included: every slot in the table is below it. */
  public int slotCount() {
    return denseOf.length;
  }

  /**
   * Slots of the members in bucket {@code bucket}'s rendezvous order, best first: the failover and
   * spill-over order of every key in it. Costs one score per member and a sort; meant for the rare
   * path.
   *
   * @throws IndexOutOfBoundsException if {@code bucket} is not in {@code [0, buckets())}
   */
  public int[] order(int bucket) {
    checkBucket(bucket);
    int n = ids.length;
    double[] scores = new double[n];
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      scores[i] = weightedScore(bucket, idHashes[i], weights[i]);
      order[i] = i;
    }
    Arrays.sort(
        order,
        (a, b) -> {
          int c = Double.compare(scores[b], scores[a]);
          return c != 0 ? c : Integer.compare(a, b);
        });
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = slotOf[order[i]];
    }
    return out;
  }

  /** The bucket count {@code M}. */
  public int buckets() {
    return buckets;
  }

  /** The number of members. */
  public int size() {
    return ids.length;
  }

  /** The member ids in ascending order (a copy). */
  public String[] ids() {
    return ids.clone();
  }

  /** Whether all members have the same weight. */
  public boolean uniformWeights() {
    return uniform;
  }

  /**
   * The bytes of the owner array: {@code M}, {@code 2M} or {@code 4M} by the number of slots (0
   * without members).
   */
  public long ownerBytes() {
    byte[] b = byteOwners;
    if (b != null) {
      return b.length;
    }
    short[] s = shortOwners;
    if (s != null) {
      return 2L * s.length;
    }
    int[] i = intOwners;
    return i == null ? 0 : 4L * i.length;
  }

  /**
   * The bytes the table holds per bucket: the owner array and the runner-up array of the same type,
   * {@code 2M}, {@code 4M} or {@code 8M} by the number of slots (0 without members).
   */
  public long tableBytes() {
    return 2 * ownerBytes();
  }

  /** The slot of bucket {@code bucket}'s runner-up, or -1 if it is not known; for tests. */
  int runner(int bucket) {
    int o = owner(bucket);
    int r = o < 0 ? -1 : runners.get(bucket);
    return r == o ? -1 : r;
  }

  /**
   * The owner of bucket {@code bucket} computed directly from the definition, one weighted score
   * per member: a reference for agreement checks, not the hot path.
   *
   * @param ids member ids, in any order
   * @param weights their weights
   * @return the owner's id, or null if there are no members
   */
  public static @Nullable String referenceOwner(int bucket, String[] ids, double[] weights) {
    String best = null;
    double bestScore = 0;
    for (int i = 0; i < ids.length; i++) {
      double s = weightedScore(bucket, RendezvousHash.idHash(ids[i]), weights[i]);
      if (best == null || s > bestScore || (s == bestScore && ids[i].compareTo(best) < 0)) {
        best = ids[i];
        bestScore = s;
      }
    }
    return best;
  }

  @Override
  public String toString() {
    return "RendezvousTable{buckets=" + buckets + ", members=" + ids.length + "}";
  }

  // ---- scores and scans ----

  static double weightedScore(int bucket, long idHash, double weight) {
    return RendezvousHash.weightedScore(RendezvousHash.score(bucket, idHash), weight);
  }

  private static double uniform(long score) {
    return ((score >>> 11) + 0.5) * TWO_POW_MINUS_53;
  }

  /**
   * {@code w·u / (1 - u)}, a lower bound of {@code w / -ln(u)} since {@code -ln(u) <= (1 - u) / u}.
   */
  private static double lowerBound(int bucket, long idHash, double weight) {
    double u = uniform(RendezvousHash.score(bucket, idHash));
    return u < 1 ? weight * u / (1 - u) * MARGIN : 0;
  }

  /**
   * The bucket's owner and runner-up over all members, as dense indices packed {@code owner << 32 |
   * runnerUp} (the owner twice when there is one member). {@code -ln(u) >= 1 - u} bounds a score
   * from above by {@code w / (1 - u)}, so a member whose bound cannot beat the runner-up so far
   * skips the logarithm; about {@code 2 ln(n)} logarithms remain per bucket.
   */
  static long scan(int bucket, long[] idHashes, double[] weights, int n) {
    int best = 0;
    double bestScore = weightedScore(bucket, idHashes[0], weights[0]);
    int second = -1;
    double secondScore = Double.NEGATIVE_INFINITY;
    double bar = Double.NEGATIVE_INFINITY;
    for (int i = 1; i < n; i++) {
      long s = RendezvousHash.score(bucket, idHashes[i]);
      if (weights[i] < bar * (1 - uniform(s))) {
        continue;
      }
      double ws = RendezvousHash.weightedScore(s, weights[i]);
      if (ws > bestScore) {
        second = best;
        secondScore = bestScore;
        best = i;
        bestScore = ws;
      } else if (second < 0 || ws > secondScore) {
        second = i;
        secondScore = ws;
      } else {
        continue;
      }
      bar = secondScore * MARGIN;
    }
    return ((long) best << 32) | (second < 0 ? best : second);
  }

  /**
   * {@link #scan} for equal weights {@code w}: the bound becomes one threshold on the raw score, so
   * a member that cannot reach the top two costs one score and one integer comparison.
   */
  static long scanUniform(int bucket, long[] idHashes, double w, int n) {
    int best = 0;
    double bestScore = weightedScore(bucket, idHashes[0], w);
    int second = -1;
    double secondScore = Double.NEGATIVE_INFINITY;
    long raw = Long.MIN_VALUE;
    long hi = (long) bucket << 32;
    long lo = (long) bucket >>> 1;
    for (int i = 1; i < n; i++) {
      // RendezvousHash.score(bucket, idHashes[i]) with fmix64's first step folded into the
      // operands (id hashes are below 2^32): one shift and one mask fewer per member.
      long s = RendezvousHash.fmix64Tail(hi | (idHashes[i] ^ lo));
      if ((s ^ Long.MIN_VALUE) < raw) {
        continue;
      }
      double ws = RendezvousHash.weightedScore(s, w);
      if (ws > bestScore) {
        second = best;
        secondScore = bestScore;
        best = i;
        bestScore = ws;
      } else if (second < 0 || ws > secondScore) {
        second = i;
        secondScore = ws;
      } else {
        continue;
      }
      raw = rawFloor(secondScore, w);
    }
    return ((long) best << 32) | (second < 0 ? best : second);
  }

  /**
   * A raw score, sign-flipped for signed comparison, below which a member of weight {@code w}
   * scores surely less than {@code bar}: {@code w / (1 - u) < bar × MARGIN} when {@code u < 1 - w /
   * (bar × MARGIN)}; two units of slack cover the rounding of {@code u}.
   */
  private static long rawFloor(double bar, double w) {
    if (!(bar > 0) || bar == Double.POSITIVE_INFINITY) {
      return Long.MIN_VALUE; // no useful bound: compare exactly
    }
    double uMax = 1 - w / (bar * MARGIN);
    double top = uMax * 0x1.0p53 - 2; // in units of score >>> 11
    if (!(top > 0)) {
      return Long.MIN_VALUE;
    }
    return ((long) top << 11) ^ Long.MIN_VALUE;
  }

  /**
   * Whether member {@code c} beats member {@code o} (dense indices) for the bucket: a higher
   * weighted score, or an equal one and a smaller id. Decided without logarithms when the bounds
   * {@code w·u/(1 - u) <= w/-ln(u) <= w/(1 - u)} already separate the two.
   */
  static boolean beats(int bucket, int c, int o, String[] ids, long[] idHashes, double[] weights) {
    long sc = RendezvousHash.score(bucket, idHashes[c]);
    long so = RendezvousHash.score(bucket, idHashes[o]);
    double uc = uniform(sc);
    double uo = uniform(so);
    double wc = weights[c];
    double wo = weights[o];
    // A u that rounds to 1 (a 2^-53 chance) scores -infinity under the pinned rule: decide exactly.
    if (uo < 1 && wc * (1 - uo) < wo * uo * (1 - uc) * MARGIN) {
      return false;
    }
    double cs = RendezvousHash.weightedScore(sc, wc);
    double os = RendezvousHash.weightedScore(so, wo);
    return cs > os || (cs == os && ids[c].compareTo(ids[o]) < 0);
  }

  // ---- validation and storage ----

  private static boolean isUniform(double[] weights) {
    for (int i = 1; i < weights.length; i++) {
      if (weights[i] != weights[0]) {
        return false;
      }
    }
    return true;
  }

  private static void checkBuckets(int buckets) {
    if (buckets < MIN_BUCKETS || buckets > MAX_BUCKETS || Integer.bitCount(buckets) != 1) {
      throw new IllegalArgumentException(
          "buckets: "
              + buckets
              + " (expected: a power of two from "
              + MIN_BUCKETS
              + " to "
              + MAX_BUCKETS
              + ")");
    }
  }

  private void checkBucket(int bucket) {
    if (bucket < 0 || bucket >= buckets) {
      throw new IndexOutOfBoundsException(
          "bucket: " + bucket + " (expected: 0.." + (buckets - 1) + ")");
    }
  }

  private static String[] checkMembers(String[] ids, double[] weights) {
    requireNonNull(ids, "ids");
    requireNonNull(weights, "weights");
    if (ids.length != weights.length) {
      throw new IllegalArgumentException(
          "weights: " + weights.length + " values (expected: one per id, " + ids.length + ")");
    }
    String[] copy = ids.clone();
    for (int i = 0; i < copy.length; i++) {
      requireNonNull(copy[i], "ids[" + i + "]");
      if (i > 0 && copy[i - 1].compareTo(copy[i]) >= 0) {
        throw new IllegalArgumentException(
            "ids: " + copy[i - 1] + " before " + copy[i] + " (expected: ascending and distinct)");
      }
      double w = weights[i];
      if (!(w > 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException(
            "weights[" + i + "]: " + w + " (expected: positive and finite)");
      }
    }
    return copy;
  }

  private Owners ownerArray() {
    return new Owners(byteOwners, shortOwners, intOwners);
  }

  /** An owner array of the smallest integer type that holds every slot. */
  private static final class Owners {
    static final Owners NONE = new Owners(null, null, null);

    final byte @Nullable [] bytes;
    final short @Nullable [] shorts;
    final int @Nullable [] ints;

    Owners(byte @Nullable [] bytes, short @Nullable [] shorts, int @Nullable [] ints) {
      this.bytes = bytes;
      this.shorts = shorts;
      this.ints = ints;
    }

    /** Bytes per entry for {@code slots} slots. */
    static int widthFor(int slots) {
      return slots <= 1 << 8 ? 1 : slots <= 1 << 16 ? 2 : 4;
    }

    /** A zeroed array of {@code width} bytes per entry. */
    static Owners allocate(int width, int buckets) {
      switch (width) {
        case 1:
          return new Owners(new byte[buckets], null, null);
        case 2:
          return new Owners(null, new short[buckets], null);
        default:
          return new Owners(null, null, new int[buckets]);
      }
    }

    /** A copy, widened if {@code width} needs a larger type. */
    Owners copy(int width, int buckets) {
      byte[] b = bytes;
      short[] s = shorts;
      int[] in = ints;
      if (width == 1 && b != null) {
        return new Owners(b.clone(), null, null);
      }
      if (width == 2 && s != null) {
        return new Owners(null, s.clone(), null);
      }
      if (width == 4 && in != null) {
        return new Owners(null, null, in.clone());
      }
      Owners out = allocate(width, buckets);
      for (int k = 0; k < buckets; k++) {
        out.set(k, get(k));
      }
      return out;
    }

    int get(int bucket) {
      byte[] b = bytes;
      if (b != null) {
        return b[bucket] & 0xff;
      }
      short[] s = shorts;
      if (s != null) {
        return s[bucket] & 0xffff;
      }
      return requireNonNull(ints)[bucket];
    }

    /**
     * The first bucket from {@code from} on whose owner or runner-up (in {@code runners}, of the
     * same type) is {@code only} (when not -1) or has its flag set in {@code flags}; -1 if none. A
     * loop per type and case, so that finding a removed member's buckets costs one comparison per
     * array and bucket.
     */
    int next(int from, int only, boolean[] flags, Owners runners) {
      byte[] b = bytes;
      short[] s = shorts;
      if (b != null) {
        byte[] rb = requireNonNull(runners.bytes);
        if (only >= 0) {
          for (int i = from; i < b.length; i++) {
            if ((b[i] & 0xff) == only || (rb[i] & 0xff) == only) {
              return i;
            }
          }
          return -1;
        }
        for (int i = from; i < b.length; i++) {
          if (isSet(b[i] & 0xff, flags) || isSet(rb[i] & 0xff, flags)) {
            return i;
          }
        }
        return -1;
      }
      if (s != null) {
        short[] rs = requireNonNull(runners.shorts);
        if (only >= 0) {
          for (int i = from; i < s.length; i++) {
            if ((s[i] & 0xffff) == only || (rs[i] & 0xffff) == only) {
              return i;
            }
          }
          return -1;
        }
        for (int i = from; i < s.length; i++) {
          if (isSet(s[i] & 0xffff, flags) || isSet(rs[i] & 0xffff, flags)) {
            return i;
          }
        }
        return -1;
      }
      int[] in = requireNonNull(ints);
      int[] ri = requireNonNull(runners.ints);
      for (int i = from; i < in.length; i++) {
        if (only >= 0
            ? in[i] == only || ri[i] == only
            : isSet(in[i], flags) || isSet(ri[i], flags)) {
          return i;
        }
      }
      return -1;
    }

    void set(int bucket, int slot) {
      byte[] b = bytes;
      if (b != null) {
        b[bucket] = (byte) slot;
        return;
      }
      short[] s = shorts;
      if (s != null) {
        s[bucket] = (short) slot;
        return;
      }
      requireNonNull(ints)[bucket] = slot;
    }
  }
}
