package dev.affinity.strategy;

import static java.util.Objects.requireNonNull;

import dev.affinity.Outcome;
import dev.affinity.SetCookie;
import dev.affinity.backend.Member;
import org.jspecify.annotations.Nullable;

/**
 * What one {@link AffinityStrategy} made of a request: a chosen member, an abstention (let the next
 * strategy decide), a rejection, or "no backend".
 *
 * <p>Reasons are short human-readable phrases for {@link
 * dev.affinity.RoutingDecision#explanation()}. Prefer constants: a strategy on the hot path should
 * not build strings per request. Reasons must never contain secrets (cookie values, tokens).
 */
public final class Selection {
  /** The kind of a selection. */
  public enum Kind {
    /** A member was chosen. */
    CHOSEN,
    /** The strategy has no opinion; the next one decides. */
    ABSTAIN,
    /** The request must be refused (401). */
    REJECT,
    /** The strategy insists there is no backend for this client (503). */
    NO_BACKEND
  }

  private final Kind kind;
  private final @Nullable Member member;
  private final @Nullable Outcome outcome;
  private final String reason;
  private final long keyHash;
  private final boolean affinityLost;
  private final @Nullable SetCookie cookie;

  private Selection(
      Kind kind,
      @Nullable Member member,
      @Nullable Outcome outcome,
      String reason,
      long keyHash,
      boolean affinityLost,
      @Nullable SetCookie cookie) {
    this.kind = kind;
    this.member = member;
    this.outcome = outcome;
    this.reason = reason;
    this.keyHash = keyHash;
    this.affinityLost = affinityLost;
    this.cookie = cookie;
  }

  /**
   * The strategy chose {@code member}.
   *
   * @param outcome {@link Outcome#AFFINITY_HIT}, {@link Outcome#FIRST_ASSIGNMENT}, {@link
   *     Outcome#FAILOVER} or {@link Outcome#SPILL_OVER}
   * @param reason why, for the explanation
   */
  public static Selection chosen(Member member, Outcome outcome, String reason) {
    return chosen(member, outcome, reason, RoutingKey.ABSENT);
  }

  /**
   * The strategy chose {@code member} by a key with this {@linkplain RoutingKey#hash hash}. The
   * decision keeps the hash, so that the failover order ({@link Selector#failoverCandidates}) and
   * selective re-homing ({@link Selector#ownerOf}) never hash the key again.
   *
   * @param keyHash the key's hash, or {@link RoutingKey#ABSENT} when the choice used no key
   */
  public static Selection chosen(Member member, Outcome outcome, String reason, long keyHash) {
    requireNonNull(member, "member");
    requireNonNull(outcome, "outcome");
    requireNonNull(reason, "reason");
    if (!outcome.hasBackend()) {
      throw new IllegalArgumentException("outcome: " + outcome + " (expected: one with a backend)");
    }
    return new Selection(Kind.CHOSEN, member, outcome, reason, keyHash, false, null);
  }

  /** The strategy has no opinion, for example because its key is absent. */
  public static Selection abstain(String reason) {
    return new Selection(
        Kind.ABSTAIN, null, null, requireNonNull(reason, "reason"), RoutingKey.ABSENT, false, null);
  }

  /**
   * The client had valid affinity, but the backend it names cannot take it (removed, down, drained
   * past its deadline). The next strategy decides, and the decision's outcome becomes {@link
   * Outcome#FAILOVER} instead of {@link Outcome#FIRST_ASSIGNMENT}.
   */
  public static Selection affinityLost(String reason) {
    return new Selection(
        Kind.ABSTAIN, null, null, requireNonNull(reason, "reason"), RoutingKey.ABSENT, true, null);
  }

  /** The request must be refused; adapters answer 401. */
  public static Selection reject(String reason) {
    return new Selection(
        Kind.REJECT, null, null, requireNonNull(reason, "reason"), RoutingKey.ABSENT, false, null);
  }

  /** There is no backend for this client and later strategies must not pick one; 503. */
  public static Selection noBackend(String reason) {
    return new Selection(
        Kind.NO_BACKEND,
        null,
        null,
        requireNonNull(reason, "reason"),
        RoutingKey.ABSENT,
        false,
        null);
  }

  /** The kind. */
  public Kind kind() {
    return kind;
  }

  /** The chosen member for {@link Kind#CHOSEN}, otherwise null. */
  public @Nullable Member member() {
    return member;
  }

  /** The outcome for {@link Kind#CHOSEN}, otherwise null. */
  public @Nullable Outcome outcome() {
    return outcome;
  }

  /** Why, for the explanation. */
  public String reason() {
    return reason;
  }

  /** The hash of the key the choice was made by, or {@link RoutingKey#ABSENT}. */
  public long keyHash() {
    return keyHash;
  }

  /**
   * This choice with a cookie to set on the 101 response (the cookie strategy refreshing its own
   * cookie, say). Only for {@link Kind#CHOSEN}.
   *
   * @throws IllegalStateException if this is not a choice
   */
  public Selection withCookie(SetCookie cookie) {
    requireNonNull(cookie, "cookie");
    if (kind != Kind.CHOSEN) {
      throw new IllegalStateException("kind: " + kind + " (expected: CHOSEN)");
    }
    return new Selection(kind, member, outcome, reason, keyHash, false, cookie);
  }

  /** The cookie the choosing strategy wants set, or null. */
  public @Nullable SetCookie cookie() {
    return cookie;
  }

  /** Whether this abstention means the client's earlier affinity was lost. */
  public boolean isAffinityLost() {
    return affinityLost;
  }

  @Override
  public String toString() {
    return kind == Kind.CHOSEN
        ? "Selection{" + member + ", " + outcome + ", " + reason + "}"
        : "Selection{" + kind + ", " + reason + "}";
  }
}
