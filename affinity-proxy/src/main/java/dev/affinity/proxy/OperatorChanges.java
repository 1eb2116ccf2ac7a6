package dev.affinity.proxy;

import dev.affinity.UnknownBackendException;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.redis.RedisFleet;
import java.time.Duration;

/**
 * Where the admin API sends an operator's change: straight to this proxy's group, or, with {@code
 * --redis}, through the fleet so that every instance applies it in version order.
 */
interface OperatorChanges {
  /** Adds a backend; {@link dev.affinity.AffinityConfigurationException} if the id is taken. */
  void add(Backend backend);

  /** Removes a backend; false if no backend has that id. */
  boolean remove(String id);

  /** Drains with no deadline. */
  void drain(String id);

  /** Drains until now plus {@code deadline}. */
  void drain(String id, Duration deadline);

  /** Marks DOWN. */
  void markDown(String id);

  /** Marks UP. */
  void markUp(String id);

  /** Replaces a backend's settings (its weight, say). */
  void update(Backend backend);

  /** Changes applied to this instance only. */
  static OperatorChanges local(BackendGroup group) {
    return new OperatorChanges() {
      @Override
      public void add(Backend backend) {
        group.add(backend);
      }

      @Override
      public boolean remove(String id) {
        return group.remove(id);
      }

      @Override
      public void drain(String id) {
        group.drain(id);
      }

      @Override
      public void drain(String id, Duration deadline) {
        group.drain(id, deadline);
      }

      @Override
      public void markDown(String id) {
        group.markDown(id);
      }

      @Override
      public void markUp(String id) {
        group.markUp(id);
      }

      @Override
      public void update(Backend backend) {
        group.update(backend);
      }
    };
  }

  /**
   * Changes published through the fleet: applied here before the call returns, and on every other
   * instance in version order. A {@link dev.affinity.redis.FleetUnavailableException} means Redis
   * could not be reached and nothing changed.
   */
  static OperatorChanges fleet(RedisFleet fleet) {
    return new OperatorChanges() {
      @Override
      public void add(Backend backend) {
        fleet.add(backend);
      }

      @Override
      public boolean remove(String id) {
        try {
          fleet.remove(id);
          return true;
        } catch (UnknownBackendException e) {
          return false;
        }
      }

      @Override
      public void drain(String id) {
        fleet.drain(id);
      }

      @Override
      public void drain(String id, Duration deadline) {
        fleet.drain(id, deadline);
      }

      @Override
      public void markDown(String id) {
        fleet.markDown(id);
      }

      @Override
      public void markUp(String id) {
        fleet.markUp(id);
      }

      @Override
      public void update(Backend backend) {
        fleet.update(backend);
      }
    };
  }
}
