package dev.affinity.jetty;

import dev.affinity.Router;
import dev.affinity.testkit.LifecycleScenarios;
import dev.affinity.testkit.ProxyHandle;
import dev.affinity.testkit.ProxySettings;

/**
 * The backend lifecycle scenarios (health checks, ejection, drain deadlines, re-homing, lifetimes,
 * agreement, Micrometer counts) through {@link AffinityHandler}, started exactly as the shared
 * adapter scenarios start it.
 */
class JettyLifecycleTest extends LifecycleScenarios {
  @Override
  protected ProxyHandle startProxy(Router router, ProxySettings settings) throws Exception {
    return new AffinityHandlerTest().startProxy(router, settings);
  }
}
