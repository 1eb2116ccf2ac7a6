package dev.affinity.netty;

import dev.affinity.Router;
import dev.affinity.strategy.LearnedAffinity;
import dev.affinity.testkit.LearnedScenarios;
import dev.affinity.testkit.ProxyHandle;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link LearnedScenarios} on the Netty adapter: {@code AffinityProxyConfig.learnedAffinity}. */
@ExtendWith(LeakCheck.class)
class NettyLearnedTest extends LearnedScenarios {
  @Override
  protected ProxyHandle startLearningProxy(Router router, LearnedAffinity learned)
      throws Exception {
    AffinityProxyServer server =
        AffinityProxyServer.builder(router)
            .host("127.0.0.1")
            .port(0)
            .ioThreads(1)
            .config(AffinityProxyConfig.builder().learnedAffinity(learned).build())
            .build()
            .start();
    return ProxyHandle.of(server::port, server::close);
  }
}
