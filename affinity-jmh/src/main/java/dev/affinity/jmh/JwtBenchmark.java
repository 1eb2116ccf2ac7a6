package dev.affinity.jmh;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.affinity.Router;
import dev.affinity.RoutingDecision;
import dev.affinity.RoutingRequest;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.JwtAffinity;
import dev.affinity.strategy.JwtAlgorithm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Router.select} with JWT affinity (token in {@code Authorization: Bearer}, {@code sub} as
 * the rendezvous key, issuer and audience checked) in front of source-IP hashing, over 16 backends.
 * {@code fresh}: the verified-token cache is off, so every select parses and verifies a signature
 * (what the first connection of each token costs). {@code repeated}: the default cache, all {@value
 * Fixtures#KEYS} tokens already verified once (a reconnect with the same token).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class JwtBenchmark {
  private static final String ISSUER = "https://issuer.example";
  private static final String AUDIENCE = "chat";

  @Param({"HS256", "RS256", "ES256"})
  public String algorithm;

  @Param({"fresh", "repeated"})
  public String token;

  private Router router;
  private RoutingRequest[] requests;
  private int cursor;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    JwtAlgorithm alg = JwtAlgorithm.valueOf(algorithm);
    Algorithm signer;
    JwtAffinity.Builder config;
    switch (alg) {
      case HS256 -> {
        byte[] secret = new byte[32];
        new Random(3).nextBytes(secret);
        signer = Algorithm.HMAC256(secret);
        config = JwtAffinity.builder(alg, secret);
      }
      case RS256 -> {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048, SecureRandom.getInstance("SHA1PRNG"));
        KeyPair kp = g.generateKeyPair();
        signer = Algorithm.RSA256((RSAPublicKey) kp.getPublic(), (RSAPrivateKey) kp.getPrivate());
        config = JwtAffinity.builder(alg, kp.getPublic());
      }
      case ES256 -> {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        signer = Algorithm.ECDSA256((ECPublicKey) kp.getPublic(), (ECPrivateKey) kp.getPrivate());
        config = JwtAffinity.builder(alg, kp.getPublic());
      }
      default -> throw new IllegalArgumentException("algorithm: " + algorithm);
    }
    config.issuer(ISSUER).audience(AUDIENCE);
    if (token.equals("fresh")) {
      config.cacheSize(0);
    }
    router =
        Router.builder(Fixtures.group(16, false))
            .strategy(AffinityStrategy.jwt(config.build()))
            .fallback(AffinityStrategy.sourceIp())
            .build();
    InetAddress[] addresses = Fixtures.addresses("ipv4", 42);
    requests = new RoutingRequest[addresses.length];
    Instant expires = Instant.now().plusSeconds(24 * 3600);
    for (int i = 0; i < addresses.length; i++) {
      String jwt =
          JWT.create()
              .withIssuer(ISSUER)
              .withAudience(AUDIENCE)
              .withSubject("user-" + i)
              .withExpiresAt(expires)
              .sign(signer);
      requests[i] =
          RoutingRequest.builder()
              .remoteAddress(new InetSocketAddress(addresses[i], 40_000 + i))
              .method("GET")
              .path("/ws")
              .header("Upgrade", "websocket")
              .header("Authorization", "Bearer " + jwt)
              .build();
      RoutingDecision d = router.select(requests[i]);
      if (!d.strategy().equals(router.strategies().get(0).name())) {
        throw new IllegalStateException("the token did not decide: " + d);
      }
    }
  }

  @Benchmark
  public RoutingDecision select() {
    return router.select(requests[cursor++ & Fixtures.MASK]);
  }
}
