package dev.affinity.netty;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingDecision;

/**
 * Fired down the client channel's pipeline (as a user event) by {@link AffinityProxyHandler} as
 * soon as the router has decided, before any backend is contacted. The same decision is in the
 * channel attribute {@link AffinityProxyHandler#DECISION}.
 *
 * <pre>{@code
 * public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
 *   if (evt instanceof RoutingDecisionEvent) {
 *     log.debug(((RoutingDecisionEvent) evt).decision().explanation());
 *   }
 *   ctx.fireUserEventTriggered(evt);
 * }
 * }</pre>
 */
public final class RoutingDecisionEvent {
  private final RoutingDecision decision;

  /** An event carrying {@code decision}. */
  public RoutingDecisionEvent(RoutingDecision decision) {
    this.decision = requireNonNull(decision, "decision");
  }

  /** The decision. */
  public RoutingDecision decision() {
    return decision;
  }

  @Override
  public String toString() {
    return "RoutingDecisionEvent{" + decision + "}";
  }
}
