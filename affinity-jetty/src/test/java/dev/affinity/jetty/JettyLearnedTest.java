package dev.affinity.jetty;

import dev.affinity.Router;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.testkit.LearnedScenarios;
import dev.affinity.testkit.ProxyHandle;

/**
 * {@link LearnedScenarios} on the Jetty adapter: {@code AffinityHandler.Builder.learnedAffinity}.
 */
class JettyLearnedTest extends LearnedScenarios {
  @Override
  protected ProxyHandle startLearningProxy(Router router, LearnedAffinity learned)
      throws Exception {
    AffinityServer server =
        AffinityServer.builder(AffinityHandler.builder(router).learnedAffinity(learned).build())
            .host("127.0.0.1")
            .port(0)
            .build()
            .start();
    return ProxyHandle.of(server::port, server::close);
  }
}
