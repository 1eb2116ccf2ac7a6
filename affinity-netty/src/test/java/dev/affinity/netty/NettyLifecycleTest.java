package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.testkit.LifecycleScenarios;
import dev.affinity.testkit.ProxyHandle;
import dev.affinity.testkit.ProxySettings;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The backend lifecycle scenarios (health checks, ejection, drain deadlines, re-homing, lifetimes,
 * agreement, Micrometer counts) through {@link AffinityProxyServer}, started exactly as the shared
 * adapter scenarios start it, with PARANOID leak detection.
 */
@ExtendWith(LeakCheck.class)
class NettyLifecycleTest extends LifecycleScenarios {
  @Override
  protected ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception {
    return new NettyAdapterTest().startProxy(router, settings);
  }
}
