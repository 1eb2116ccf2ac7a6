package dev.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.affinity.backend.Backend;
import dev.affinity.backend.BackendGroup;
import dev.affinity.backend.ConnectionLease;
import dev.affinity.client.ClientAddressResolver;
import dev.affinity.client.ForwardedHeader;
import dev.affinity.hash.RendezvousHash;
import dev.affinity.strategy.AffinityStrategy;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import dev.affinity.strategy.JwtAffinity;
import dev.affinity.strategy.JwtAffinity.InvalidTokenPolicy;
import dev.affinity.strategy.JwtAlgorithm;
import dev.affinity.strategy.TokenSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's core quick start, compiled and run. {@link #readme_showsExactlyThisCode} keeps the
 * README's snippet and this method's body identical, so the README cannot rot.
 */
class ReadmeQuickStartTest {
  // "try": the README's lease is held for the connection's life and never read, by design.
  @SuppressWarnings({"unused", "try"})
  static RoutingDecision quickStart() {
    // spotless:off
    // quickstart:begin
    BackendGroup group = BackendGroup.of(
        Backend.of("ws-1", "10.0.0.1", 8080),
        Backend.of("ws-2", "10.0.0.2", 8080).withWeight(2),
        Backend.of("ws-3", "10.0.0.3", 8080));

    ClientAddressResolver clients = ClientAddressResolver.builder()
        .trustedProxies("10.0.0.0/8")                      // our load balancers
        .forwardedHeader(ForwardedHeader.X_FORWARDED_FOR)  // the header they write
        .build();

    Router router = Router.builder(group)
        .strategy(AffinityStrategy.sourceIp(clients))      // sticky by real client address
        .fallback(AffinityStrategy.leastConnections())     // first pick when nothing decides
        .build();

    // For each handshake: describe it (adapters do this for you) and ask.
    RoutingRequest request = RoutingRequest.builder()
        .remoteAddress("10.0.0.250", 43512)
        .path("/chat")
        .header("X-Forwarded-For", "203.0.113.7")
        .build();
    RoutingDecision decision = router.select(request);

    if (decision.hasBackend()) {
      Backend backend = decision.backend();               // connect here...
      List<Backend> next = decision.failoverCandidates(); // ...or here, in order, if that fails
      try (ConnectionLease lease = decision.openLease(backend, reason -> {})) { // counts it
        // relay the WebSocket until it closes
      }
    } else {
      int status = decision.httpStatus();                  // 503 no backend, 401 rejected
    }
    System.out.println(decision.explanation());
    // quickstart:end
    // spotless:on
    return decision;
  }

  @SuppressWarnings("unused")
  static RoutingDecision cookieQuickStart(BackendGroup group, String cookieSecret) {
    // spotless:off
    // cookie:begin
    CookieAffinity cookies = CookieAffinity.builder(
            CookieKeys.of(CookieKey.fromBase64(1, cookieSecret)))  // openssl rand -base64 32
        .maxAge(Duration.ofHours(12))   // the router refuses older cookies
        .header("X-Affinity")           // clients without a cookie jar may send the value here
        .build();

    Router router = Router.builder(group)
        .strategy(AffinityStrategy.cookie(cookies))      // returning clients go back
        .fallback(AffinityStrategy.leastConnections())   // everyone else: first pick + cookie
        .build();

    RoutingDecision first = router.select(RoutingRequest.builder().build());
    SetCookie setCookie = first.cookie();                // add it to the 101 response

    RoutingDecision back = router.select(RoutingRequest.builder()
        .cookie(setCookie.name(), setCookie.value())     // what the browser sends next time
        .build());
    System.out.println(first.explanation());
    System.out.println(back.explanation());
    // cookie:end
    // spotless:on
    return back;
  }

  @SuppressWarnings("unused")
  static RoutingDecision jwtQuickStart(
      BackendGroup group, CookieAffinity cookies, PublicKey issuerPublicKey, String token) {
    // spotless:off
    // jwt:begin
    JwtAffinity tokens = JwtAffinity.builder(JwtAlgorithm.RS256, issuerPublicKey)
        .issuer("https://auth.example.com")
        .audience("chat")
        .sources(TokenSource.authorizationBearer(),   // clients that can set headers
                 TokenSource.webSocketProtocol())     // browsers: a "bearer.<token>" subprotocol
        .claims("tenant", "sub")                      // same tenant and user, same backend
        .invalidToken(InvalidTokenPolicy.REJECT)      // a bad token gets 401
        .build();

    Router router = Router.builder(group)
        .strategy(AffinityStrategy.cookie(cookies))   // 1. returning clients
        .strategy(AffinityStrategy.jwt(tokens))       // 2. the user's backend
        .fallback(AffinityStrategy.sourceIp())        // 3. everyone else
        .build();

    // In the browser: new WebSocket(url, ["chat.v2", "bearer." + token])
    RoutingDecision decision = router.select(RoutingRequest.builder()
        .remoteAddress("203.0.113.7", 43512)
        .header("Sec-WebSocket-Protocol", "chat.v2, bearer." + token)
        .build());
    System.out.println(decision.explanation());
    // jwt:end
    // spotless:on
    return decision;
  }

  @Test
  void jwtQuickStart_routesByTheVerifiedClaims() throws Exception {
    BackendGroup group =
        BackendGroup.of(Backend.of("ws-1", "10.0.0.1", 8080), Backend.of("ws-2", "10.0.0.2", 8080));
    CookieAffinity cookies =
        CookieAffinity.builder(CookieKeys.of(CookieKey.of(1, new byte[32]))).build();
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair issuer = generator.generateKeyPair();
    String token =
        JWT.create()
            .withIssuer("https://auth.example.com")
            .withAudience("chat")
            .withSubject("alice")
            .withClaim("tenant", "acme")
            .withExpiresAt(Instant.now().plus(Duration.ofHours(1)))
            .sign(
                Algorithm.RSA256(
                    (RSAPublicKey) issuer.getPublic(), (RSAPrivateKey) issuer.getPrivate()));
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    RoutingDecision decision;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      decision = jwtQuickStart(group, cookies, issuer.getPublic(), token);
    } finally {
      System.setOut(out);
    }
    String key = "4:acme5:alice";
    String owner = RendezvousHash.owner(key, List.of("ws-1", "ws-2"));
    assertThat(owner).as("the README shows this output").isEqualTo("ws-2");
    assertThat(Long.toHexString(RendezvousHash.keyHash(key))).isEqualTo("101bfb36");
    assertThat(decision.backend().id()).isEqualTo(owner);
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "cookie abstained: no affinity cookie; jwt chose "
                + owner
                + " (AFFINITY_HIT): owner of the key; key JWT claims tenant+sub (hash "
                + Long.toHexString(RendezvousHash.keyHash(key))
                + "); sets cookie AFFINITY"
                + System.lineSeparator());
  }

  @Test
  void readme_showsExactlyTheJwtCode() throws IOException {
    assertReadmeBlock("jwt");
  }

  @Test
  void cookieQuickStart_sendsTheReturningClientBack() {
    BackendGroup group =
        BackendGroup.of(Backend.of("ws-1", "10.0.0.1", 8080), Backend.of("ws-2", "10.0.0.2", 8080));
    String secret = Base64.getEncoder().encodeToString(new byte[32]);
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    RoutingDecision back;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      back = cookieQuickStart(group, secret);
    } finally {
      System.setOut(out);
    }
    assertThat(back.outcome()).isEqualTo(Outcome.AFFINITY_HIT);
    String id = back.backend().id();
    assertThat(id).as("the README shows this output").isEqualTo("ws-1");
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "cookie abstained: no affinity cookie; least-connections chose "
                + id
                + " (FIRST_ASSIGNMENT): fewest live connections per unit of weight; sets cookie"
                + " AFFINITY"
                + System.lineSeparator()
                + "cookie chose "
                + id
                + " (AFFINITY_HIT): valid affinity cookie"
                + System.lineSeparator());
  }

  @Test
  void readme_showsExactlyTheCookieCode() throws IOException {
    assertReadmeBlock("cookie");
  }

  @Test
  void quickStart_routesTheForwardedClient() {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    RoutingDecision decision;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      decision = quickStart();
    } finally {
      System.setOut(out);
    }
    assertThat(decision.backend().id()).isEqualTo("ws-2");
    assertThat(decision.failoverCandidates()).hasSize(2);
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "source-ip chose ws-2 (AFFINITY_HIT): owner of the key; key client IP 203.0.113.7"
                + " from X-Forwarded-For (peer /10.0.0.250:43512 is trusted)"
                + System.lineSeparator());
  }

  @Test
  void readme_showsExactlyThisCode() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    String block = between(readme, "<!-- quickstart:core:begin", "<!-- quickstart:core:end -->");
    block = between(block, "```java\n", "```");
    String source =
        Files.readString(Path.of("src/test/java/dev/affinity/ReadmeQuickStartTest.java"));
    String body = between(source, "// quickstart:begin\n", "    // quickstart:end");
    assertThat(unindent(body, 4)).isEqualTo(block);
  }

  /** The README block between {@code <!-- quickstart:NAME:begin} and its end is method NAME's. */
  private static void assertReadmeBlock(String name) throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    String block =
        between(
            readme, "<!-- quickstart:" + name + ":begin", "<!-- quickstart:" + name + ":end -->");
    block = between(block, "```java\n", "```");
    String source =
        Files.readString(Path.of("src/test/java/dev/affinity/ReadmeQuickStartTest.java"));
    String body = between(source, "// " + name + ":begin\n", "    // " + name + ":end");
    assertThat(unindent(body, 4)).isEqualTo(block);
  }

  /** The text of {@code s} between the line holding {@code start} and {@code end}. */
  static String between(String s, String start, String end) {
    int i = s.indexOf(start);
    assertThat(i).as("marker %s", start).isNotNegative();
    i = s.indexOf('\n', i + start.length() - 1) + 1;
    if (start.endsWith("\n")) {
      i = s.indexOf(start) + start.length();
    }
    int j = s.indexOf(end, i);
    assertThat(j).as("marker %s", end).isNotNegative();
    return s.substring(i, j);
  }

  private static String unindent(String s, int spaces) {
    StringBuilder out = new StringBuilder();
    for (String line : s.split("\n", -1)) {
      out.append(line.startsWith(" ".repeat(spaces)) ? line.substring(spaces) : line).append('\n');
    }
    return out.substring(0, out.length() - 1);
  }
}
