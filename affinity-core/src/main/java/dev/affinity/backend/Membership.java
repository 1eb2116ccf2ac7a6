package dev.affinity.backend;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.time.InstantSource;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of a {@link BackendGroup}: its members sorted by id, and a version that
 * grows with every change. Routing reads one snapshot per decision, without locks.
 *
 * <p>Because members are sorted by id, two groups that hold the same backends in the same states
 * produce equal snapshots whatever order the backends were added in; the {@link #fingerprint()}
 * lets proxy instances check that they agree.
 *
 * <p>A snapshot also carries its group's {@linkplain #clock() clock}, so that a strategy building
 * its selector reads time (cookie ages, token expiry, drain deadlines) from the one clock the group
 * uses for everything else.
 */
public final class Membership {
  private static final Membership EMPTY =
      new Membership(ImmutableList.of(), 0, InstantSource.system());

  private final ImmutableList<Member> members;
  private final ImmutableMap<String, Member> byId;
  private final Member[] acceptingNew;
  private final long version;
  private final boolean uniformWeights;
  private final String fingerprint;
  private final InstantSource clock;

  Membership(ImmutableList<Member> sortedMembers, long version, InstantSource clock) {
    this.members = sortedMembers;
    this.version = version;
    this.clock = clock;
    ImmutableMap.Builder<String, Member> map = ImmutableMap.builderWithExpectedSize(members.size());
    ImmutableList.Builder<Member> up = ImmutableList.builder();
    double firstWeight = -1;
    boolean uniform = true;
    Hasher fp = Hashing.sha256().newHasher();
    for (Member m : members) {
      map.put(m.id(), m);
      if (m.state() == BackendState.UP) {
        up.add(m);
        if (firstWeight == -1) {
          firstWeight = m.effectiveWeight();
        } else if (firstWeight != m.effectiveWeight()) {
          uniform = false;
        }
      }
      fp.putString(m.id(), UTF_8).putByte((byte) 0);
      // The effective weight (slow start included) and the effective state are what routing obeys.
      // The state goes in by name, so instances agree even if the enum's order ever changes.
      fp.putDouble(m.effectiveWeight()).putString(m.state().name(), UTF_8).putByte((byte) 0);
    }
    this.byId = map.buildOrThrow();
    this.acceptingNew = up.build().toArray(new Member[0]);
    this.uniformWeights = uniform;
    this.fingerprint = fp.hash().toString().substring(0, 16);
  }

  /** A snapshot with no members, on the system clock. */
  public static Membership empty() {
    return EMPTY;
  }

  /** All members sorted by id, in every state. */
  public List<Member> members() {
    return members;
  }

  /** The member with this id, or null. */
  public @Nullable Member member(String id) {
    return byId.get(id);
  }

  /** Whether {@code member} is this snapshot's own member object. */
  public boolean contains(Member member) {
    int i = member.index();
    return i < members.size() && members.get(i) == member;
  }

  /**
   * The {@link BackendState#UP UP} members sorted by id, whether or not they are at their cap. The
   * array is shared: callers must not modify it.
   */
  @SuppressWarnings("AvoidObjectArrays") // hot path: indexed without a List wrapper
  public Member[] upMembers() {
    return acceptingNew;
  }

  /** The number of members in every state. */
  public int size() {
    return members.size();
  }

  /**
   * Whether every UP member has the same {@linkplain Member#effectiveWeight() effective weight},
   * which lets hash strategies skip weighting.
   */
  public boolean uniformWeights() {
    return uniformWeights;
  }

  /**
   * The clock of the group that published this snapshot ({@link BackendGroup#clock()}): the one
   * time source for everything a router decides, strategies included. {@link #empty()} has the
   * system clock. Not part of the {@link #fingerprint()}.
   */
  public InstantSource clock() {
    return clock;
  }

  /** Grows by at least one with every change to the group. */
  public long version() {
    return version;
  }

  /**
   * A short hex digest of (id, effective weight, effective state) for every member. Two proxy
   * instances whose snapshots have the same fingerprint make the same hash-based decisions; compare
   * fingerprints across instances to detect disagreement. Versions, addresses and metadata are not
   * included. Health is: an instance whose checks see a backend DOWN disagrees with one that sees
   * it UP, and that is worth an alert. During a slow-start ramp instances agree only at the same
   * step.
   */
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public String toString() {
    return "Membership{version=" + version + ", fingerprint=" + fingerprint + ", " + members + "}";
  }
}
