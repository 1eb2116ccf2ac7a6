package dev.affinity.metrics;

import static java.util.Objects.requireNonNull;

import dev.affinity.RoutingDecision;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Membership;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * Calls several listeners, swallowing what they throw: the first failure is logged at WARNING,
 * later ones at DEBUG, so a broken listener cannot flood the log or break routing.
 */
public final class GuardedRoutingListener implements RoutingListener {
  private static final System.Logger LOG = System.getLogger(GuardedRoutingListener.class.getName());

  private final RoutingListener[] delegates;
  private final AtomicBoolean warned = new AtomicBoolean();

  private GuardedRoutingListener(List<RoutingListener> delegates) {
    this.delegates = delegates.toArray(new RoutingListener[0]);
  }

  /** Returns a listener that calls {@code delegates} in order, guarding each call. */
  public static RoutingListener of(List<RoutingListener> delegates) {
    requireNonNull(delegates, "delegates");
    return delegates.isEmpty() ? RoutingListener.NOOP : new GuardedRoutingListener(delegates);
  }

  private void failed(RoutingListener l, String method, Throwable t) {
    if (warned.compareAndSet(false, true)) {
      LOG.log(Level.WARNING, "routing listener " + l + " threw from " + method + "; ignoring", t);
    } else {
      LOG.log(Level.DEBUG, "routing listener " + l + " threw from " + method, t);
    }
  }

  @Override
  public void decisionMade(RoutingDecision decision) {
    for (RoutingListener l : delegates) {
      try {
        l.decisionMade(decision);
      } catch (Throwable t) {
        failed(l, "decisionMade", t);
      }
    }
  }

  @Override
  public void strategyFailed(String strategy, Throwable error) {
    for (RoutingListener l : delegates) {
      try {
        l.strategyFailed(strategy, error);
      } catch (Throwable t) {
        failed(l, "strategyFailed", t);
      }
    }
  }

  @Override
  public void connectionOpened(Backend backend) {
    for (RoutingListener l : delegates) {
      try {
        l.connectionOpened(backend);
      } catch (Throwable t) {
        failed(l, "connectionOpened", t);
      }
    }
  }

  @Override
  public void connectionClosed(Backend backend) {
    for (RoutingListener l : delegates) {
      try {
        l.connectionClosed(backend);
      } catch (Throwable t) {
        failed(l, "connectionClosed", t);
      }
    }
  }

  @Override
  public void connectFailed(Backend backend, Throwable cause) {
    for (RoutingListener l : delegates) {
      try {
        l.connectFailed(backend, cause);
      } catch (Throwable t) {
        failed(l, "connectFailed", t);
      }
    }
  }

  @Override
  public void membershipChanged(Membership membership) {
    for (RoutingListener l : delegates) {
      try {
        l.membershipChanged(membership);
      } catch (Throwable t) {
        failed(l, "membershipChanged", t);
      }
    }
  }

  @Override
  public void backendStateChanged(
      Backend backend, @Nullable BackendState from, @Nullable BackendState to, String fingerprint) {
    for (RoutingListener l : delegates) {
      try {
        l.backendStateChanged(backend, from, to, fingerprint);
      } catch (Throwable t) {
        failed(l, "backendStateChanged", t);
      }
    }
  }
}
