package dev.affinity.proxy;

import dev.affinity.strategy.AffinityStrategy;
import java.util.function.Supplier;

/** The first-pick strategies {@code --fallback} can name. */
enum Fallback {
  LEAST_CONNECTIONS("least-connections", "lc", AffinityStrategy::leastConnections),
  ROUND_ROBIN("round-robin", "rr", AffinityStrategy::roundRobin),
  POWER_OF_TWO_CHOICES("power-of-two-choices", "p2c", AffinityStrategy::powerOfTwoChoices);

  private final String flagValue;
  private final String alias;

  // Each factory is a static method reference with no state, so the enum stays immutable.
  @SuppressWarnings("ImmutableEnumChecker")
  private final Supplier<AffinityStrategy> factory;

  Fallback(String flagValue, String alias, Supplier<AffinityStrategy> factory) {
    this.flagValue = flagValue;
    this.alias = alias;
    this.factory = factory;
  }

  String flagValue() {
    return flagValue;
  }

  String alias() {
    return alias;
  }

  AffinityStrategy create() {
    return factory.get();
  }

  @Override
  public String toString() {
    return flagValue;
  }
}
