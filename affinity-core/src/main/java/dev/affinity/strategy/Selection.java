package dev.affinity.strategy;

import static java.util.Objects.requireNonNull;

import dev.affinity.Outcome;
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
  private final @Nullable RoutingKey key;
  private final boolean affinityLost;

  private Selection(
      Kind kind,
      @Nullable Member member,
      @Nullable Outcome outcome,
      String reason,
      @Nullable RoutingKey key,
      boolean affinityLost) {
    this.kind = kind;
    this.member = member;
    this.outcome = outcome;
    this.reason = reason;
    this.key = key;
    this.affinityLost = affinityLost;
  }

  /**
   * The strategy chose {@code member}.
   *
   * @param outcome {@link Outcome#AFFINITY_HIT}, {@link Outcome#FIRST_ASSIGNMENT}, {@link
   *     Outcome#FAILOVER} or {@link Outcome#SPILL_OVER}
   * @param reason why, for the explanation
   */
  public static Selection chosen(Member member, Outcome outcome, String reason) {
    return chosen(member, outcome, reason, null);
  }

  /**
   * The strategy chose {@code member} by hashing {@code key}; the explanation describes the key's
   * value only when it is asked for.
   */
  public static Selection chosen(
      Member member, Outcome outcome, String reason, @Nullable RoutingKey key) {
    requireNonNull(member, "member");
    requireNonNull(outcome, "outcome");
    requireNonNull(reason, "reason");
    if (!outcome.hasBackend()) {
      throw new IllegalArgumentException("outcome: " + outcome + " (expected: one with a backend)");
    }
    return new Selection(Kind.CHOSEN, member, outcome, reason, key, false);
  }

  /** The strategy has no opinion, for example because its key is absent. */
  public static Selection abstain(String reason) {
    return new Selection(Kind.ABSTAIN, null, null, requireNonNull(reason, "reason"), null, false);
  }

  /**
   * The client had valid affinity, but the backend it names cannot take it (removed, down, drained
   * past its deadline). The next strategy decides, and the decision's outcome becomes {@link
   * Outcome#FAILOVER} instead of {@link Outcome#FIRST_ASSIGNMENT}.
   */
  public static Selection affinityLost(String reason) {
    return new Selection(Kind.ABSTAIN, null, null, requireNonNull(reason, "reason"), null, true);
  }

  /** The request must be refused; adapters answer 401. */
  public static Selection reject(String reason) {
    return new Selection(Kind.REJECT, null, null, requireNonNull(reason, "reason"), null, false);
  }

  /** There is no backend for this client and later strategies must not pick one; 503. */
  public static Selection noBackend(String reason) {
    return new Selection(
        Kind.NO_BACKEND, null, null, requireNonNull(reason, "reason"), null, false);
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

  /** The key that was hashed, if any. */
  public @Nullable RoutingKey key() {
    return key;
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
