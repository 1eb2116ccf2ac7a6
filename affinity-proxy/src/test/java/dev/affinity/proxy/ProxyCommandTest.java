package dev.affinity.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.affinity.Router;
import dev.affinity.backend.BackendGroup;
import dev.affinity.strategy.AffinityStrategy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ProxyCommandTest {
  private static final String SECRET = "q83vEjRWeJ0Sit2Bkx7/3ahK0pwGm4UK1w5X2CkO4t8=";

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private ProxyCommand parse(Map<String, String> env, String... args) {
    ProxyCommand command = new ProxyCommand(env::get);
    commandLine(command).parseArgs(args);
    return command;
  }

  private ProxyCommand parse(String... args) {
    return parse(Map.of(), args);
  }

  private CommandLine commandLine(ProxyCommand command) {
    return AffinityProxy.commandLine(
        command, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  /** Runs the command as main would, but only up to validation and router building. */
  private int validateAndBuild(Map<String, String> env, String... args) {
    ProxyCommand command = new ProxyCommand(env::get);
    CommandLine cl = commandLine(command);
    try {
      cl.parseArgs(args);
      command.validate();
      command.buildRouter(BackendGroup.create(), new PrintWriter(err, true));
      return 0;
    } catch (CommandLine.ParameterException e) {
      try {
        return cl.getParameterExceptionHandler().handleParseException(e, args);
      } catch (Exception handlerFailed) {
        throw new AssertionError(handlerFailed);
      }
    }
  }

  @Test
  void noFlags_defaultsToLoopbackWithCookieThenSourceIp() {
    ProxyCommand c = parse();
    assertThat(c.isDemo()).isFalse();
    assertThat(c.listen.getHostString()).isEqualTo("127.0.0.1");
    assertThat(c.listen.getPort()).isEqualTo(8080);
    assertThat(c.strategies).map(StrategySpec::toString).containsExactly("cookie", "source-ip");
    assertThat(c.fallback).isEqualTo(Fallback.LEAST_CONNECTIONS);
    assertThat(c.server).isEqualTo(ServerKind.NETTY);
    assertThat(c.timeouts())
        .isEqualTo(
            new ProxyTimeouts(
                Duration.ofSeconds(5),
                Duration.ofSeconds(10),
                Duration.ofHours(1),
                Duration.ofSeconds(10)));
  }

  @Test
  void backends_parseIdUriWeightAndCap() {
    ProxyCommand c =
        parse(
            "--backend", "id=ws-1,uri=ws://10.0.0.1:9000",
            "-b", "id=ws-2, uri=ws://[fd00::2]:9000/, weight=3, max-connections=500");
    assertThat(c.isDemo()).isFalse();
    assertThat(c.backends)
        .map(Object::toString)
        .containsExactly(
            "Backend.of(\"ws-1\", \"10.0.0.1\", 9000)",
            "Backend.of(\"ws-2\", \"fd00::2\", 9000).withWeight(3).withMaxConnections(500)");
  }

  @Test
  void everyFlag_parsesToItsValue() {
    ProxyCommand c =
        parse(
            "--listen", ":9443",
            "--backend", "id=a,uri=ws://127.0.0.1:1",
            "--strategy", "cookie,header:X-User,query:room,path:1,source-ip",
            "--fallback", "p2c",
            "--bounded-load", "1.25",
            "--server", "jetty",
            "--cookie-name", "SRV",
            "--trusted-proxy", "10.0.0.0/8,192.168.0.0/16",
            "--trusted-proxy", "fd00::/8",
            "--forwarded-header", "forwarded",
            "--connect-timeout", "750ms",
            "--handshake-timeout", "PT3S",
            "--idle-timeout", "2h",
            "--shutdown-timeout", "1m");
    assertThat(c.listen.getPort()).isEqualTo(9443);
    assertThat(c.listen.getAddress().isAnyLocalAddress()).isTrue();
    assertThat(c.strategies)
        .map(StrategySpec::toString)
        .containsExactly("cookie", "header:X-User", "query:room", "path:1", "source-ip");
    assertThat(c.fallback).isEqualTo(Fallback.POWER_OF_TWO_CHOICES);
    assertThat(c.boundedLoad).isEqualTo(1.25);
    assertThat(c.server).isEqualTo(ServerKind.JETTY);
    assertThat(c.cookie.name).isEqualTo("SRV");
    assertThat(c.trustedProxies).containsExactly("10.0.0.0/8", "192.168.0.0/16", "fd00::/8");
    assertThat(c.timeouts())
        .isEqualTo(
            new ProxyTimeouts(
                Duration.ofMillis(750),
                Duration.ofSeconds(3),
                Duration.ofHours(2),
                Duration.ofMinutes(1)));
  }

  @Test
  void buildRouter_followsTheChainInOrderAndWrapsHashStrategiesInBoundedLoad() {
    ProxyCommand c =
        parse(
            Map.of("SECRET", SECRET),
            "--backend",
            "id=a,uri=ws://127.0.0.1:1",
            "--strategy",
            "cookie,header:X-User,source-ip",
            "--bounded-load",
            "1.5",
            "--fallback",
            "round-robin",
            "--cookie-secret-env",
            "SECRET");
    c.validate();
    Router router = c.buildRouter(BackendGroup.create(), new PrintWriter(err, true));
    assertThat(router.strategies().stream().map(s -> s.name()).collect(Collectors.toList()))
        .hasSize(3)
        .first()
        .isEqualTo("cookie");
    assertThat(router.strategies().get(1).name()).contains("bounded");
    assertThat(router.strategies().get(2).name()).contains("bounded");
    assertThat(router.fallback().name()).isEqualTo("round-robin");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void noCookieSecret_outsideTheDemo_warnsThatCookiesWillNotAgree() {
    assertThat(validateAndBuild(Map.of(), "--backend", "id=a,uri=ws://127.0.0.1:1")).isZero();
    assertThat(err.toString()).contains("random secret").contains("--cookie-secret-file");
  }

  @Test
  void cookieSecretFile_isRead(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("cookie.key");
    Files.writeString(key, SECRET + "\n");
    assertThat(
            validateAndBuild(
                Map.of(),
                "--backend",
                "id=a,uri=ws://127.0.0.1:1",
                "--cookie-secret-file",
                key.toString()))
        .isZero();
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void configFile_givesFlagsOnePerLine(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("proxy.conf");
    Files.write(
        conf,
        List.of(
            "# two backends behind an ALB",
            "--listen 0.0.0.0:8080",
            "--backend id=ws-1,uri=ws://10.0.0.1:9000",
            "--backend id=ws-2,uri=ws://10.0.0.2:9000,weight=2",
            "--trusted-proxy 10.0.0.0/8"));
    ProxyCommand c = parse("@" + conf);
    assertThat(c.backends).map(b -> b.id()).containsExactly("ws-1", "ws-2");
    assertThat(c.trustedProxies).containsExactly("10.0.0.0/8");
    assertThat(c.listen.getPort()).isEqualTo(8080);
  }

  @Test
  void help_listsEveryFlagAndExitsZero() {
    int status = commandLine(new ProxyCommand(Map.<String, String>of()::get)).execute("--help");
    assertThat(status).isZero();
    assertThat(out.toString())
        .contains("Usage: affinity-proxy")
        .contains(
            "--listen",
            "--backend",
            "--strategy",
            "--fallback",
            "--bounded-load",
            "--hash",
            "--server",
            "--jwt-algorithm",
            "--jwt-key-file",
            "--jwt-from",
            "--jwt-claim",
            "--proxy-protocol",
            "--health-check",
            "--health-interval",
            "--cookie-name",
            "--cookie-secret-file",
            "--cookie-secret-env",
            "--cookie-old-secret-file",
            "--cookie-max-age",
            "--trusted-proxy",
            "--forwarded-header",
            "--connect-timeout",
            "--handshake-timeout",
            "--idle-timeout",
            "--shutdown-timeout",
            "--access-log",
            "--log-level",
            "--admin",
            "--admin-token-file",
            "--admin-token-env",
            "--tls-cert",
            "--tls-key",
            "--backend-ca",
            "--config",
            "@proxy.conf")
        .doesNotContain("--demo");
  }

  @Test
  void noBackend_withoutADemo_isAUsageErrorNamingBackend() {
    ProxyCommand command = new ProxyCommand(Map.<String, String>of()::get);
    int status = commandLine(command).execute("--listen", "127.0.0.1:0");
    assertThat(status).isEqualTo(AffinityProxy.USAGE_ERROR);
    assertThat(err.toString()).contains("--backend: none given");
  }

  @Test
  void demoFlag_withoutADemo_isUnknown() {
    int status = commandLine(new ProxyCommand(Map.<String, String>of()::get)).execute("--demo");
    assertThat(status).isEqualTo(AffinityProxy.USAGE_ERROR);
    assertThat(err.toString()).contains("Unknown option: '--demo'");
  }

  @Test
  void unknownFlag_namesItAndSuggestsTheRightOne() {
    int status = commandLine(new ProxyCommand(Map.<String, String>of()::get)).execute("--lisen=x");
    assertThat(status).isEqualTo(AffinityProxy.USAGE_ERROR);
    assertThat(err.toString()).contains("Unknown option: '--lisen").contains("--listen");
    assertThat(err.toString()).contains("Try 'affinity-proxy --help'");
    assertThat(err.toString().lines().count()).isLessThan(6);
  }

  private String failure(String... args) {
    return failure(Map.of(), args);
  }

  private String failure(Map<String, String> env, String... args) {
    int status = validateAndBuild(env, args);
    assertThat(status).as("exit status of %s", List.of(args)).isEqualTo(AffinityProxy.USAGE_ERROR);
    return err.toString();
  }

  @Test
  void badBackend_namesTheFlagAndWhatWasWrong() {
    assertThat(failure("--backend", "id=ws-1")).contains("--backend").contains("lacks uri");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=ws-1,uri=http://h:1"))
        .contains("--backend")
        .contains("expected: ws://HOST:PORT or wss://HOST:PORT");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=ws-1,uri=ws://h"))
        .contains("--backend")
        .contains("explicit port");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=ws-1,uri=ws://h:1/chat")).contains("without path");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=ws-1,uri=ws://h:1,weight=0")).contains("weight: 0");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=ws-1,uri=ws://h:1,wieght=2"))
        .contains("unknown field 'wieght'");
  }

  @Test
  void badValues_nameTheirFlag() {
    assertThat(failure("--idle-timeout", "soon")).contains("--idle-timeout").contains("soon");
    err.getBuffer().setLength(0);
    assertThat(failure("--listen", "8080")).contains("--listen").contains("HOST:PORT");
    err.getBuffer().setLength(0);
    assertThat(failure("--strategy", "cookie,magic")).contains("--strategy").contains("'magic'");
    err.getBuffer().setLength(0);
    assertThat(failure("--strategy", "header:")).contains("header:NAME");
    err.getBuffer().setLength(0);
    assertThat(failure("--server", "tomcat")).contains("--server").contains("netty or jetty");
    err.getBuffer().setLength(0);
    assertThat(failure("--fallback", "random")).contains("--fallback");
    err.getBuffer().setLength(0);
    assertThat(failure("--forwarded-header", "x-real-ip")).contains("--forwarded-header");
    err.getBuffer().setLength(0);
    assertThat(failure("--trusted-proxy", "10.0.0.0/33")).contains("--trusted-proxy");
    err.getBuffer().setLength(0);
    assertThat(failure("--ipv6-prefix", "129")).contains("--ipv6-prefix: ").contains("1..128");
  }

  @Test
  void flagsThatDoNotGoTogether_areRefused() {
    assertThat(
            failure(
                "--backend", "id=a,uri=ws://h:1",
                "--cookie-secret-file", "/x",
                "--cookie-secret-env", "Y"))
        .contains("at most one");
    err.getBuffer().setLength(0);
    assertThat(
            failure(
                "--backend", "id=a,uri=ws://h:1", "--bounded-load", "1.2", "--strategy", "cookie"))
        .contains("--bounded-load")
        .contains("no hash strategy");
    err.getBuffer().setLength(0);
    assertThat(failure("--strategy", "cookie,cookie")).contains("each strategy once");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=a,uri=ws://h:1", "--backend", "id=a,uri=ws://h:2"))
        .contains("id a given twice");
  }

  @Test
  void badSecrets_nameTheFlagButNeverTheSecret(@TempDir Path dir) throws Exception {
    String shortSecret = "c2hvcnQtc2VjcmV0"; // "short-secret": 12 bytes
    assertThat(
            failure(
                Map.of("COOKIE_KEY", shortSecret),
                "--backend",
                "id=a,uri=ws://h:1",
                "--cookie-secret-env",
                "COOKIE_KEY"))
        .contains("--cookie-secret-env")
        .contains("at least 32 bytes")
        .doesNotContain(shortSecret);
    err.getBuffer().setLength(0);
    assertThat(
            failure(Map.of(), "--backend", "id=a,uri=ws://h:1", "--cookie-secret-env", "UNSET_VAR"))
        .contains("--cookie-secret-env")
        .contains("UNSET_VAR is not set");
    err.getBuffer().setLength(0);
    Path bad = dir.resolve("bad.key");
    String notBase64 = "this is not base64 but a secret!!";
    Files.writeString(bad, notBase64);
    assertThat(
            failure(
                Map.of(), "--backend", "id=a,uri=ws://h:1", "--cookie-secret-file", bad.toString()))
        .contains("--cookie-secret-file")
        .doesNotContain(notBase64);
    err.getBuffer().setLength(0);
    assertThat(
            failure(
                Map.of(),
                "--backend",
                "id=a,uri=ws://h:1",
                "--cookie-secret-file",
                dir.resolve("missing.key").toString()))
        .contains("--cookie-secret-file")
        .contains("missing.key");
  }

  @Test
  void jwt_withAnHmacSecretFromTheEnvironment_routesByTheClaim() {
    String secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVzIQ==";
    ProxyCommand c =
        parse(
            Map.of("JWT_KEY", secret),
            "--backend",
            "id=a,uri=ws://127.0.0.1:1",
            "--backend",
            "id=b,uri=ws://127.0.0.1:2",
            "--strategy",
            "jwt,source-ip",
            "--jwt-algorithm",
            "hs256",
            "--jwt-key-env",
            "JWT_KEY",
            "--jwt-from",
            "query:token",
            "--jwt-claim",
            "tenant,sub",
            "--jwt-issuer",
            "https://auth.example",
            "--jwt-invalid",
            "abstain");
    c.validate();
    Router router = c.buildRouter(BackendGroup.of(c.backends), new PrintWriter(err, true));
    String token =
        com.auth0
            .jwt
            .JWT
            .create()
            .withIssuer("https://auth.example")
            .withClaim("tenant", "acme")
            .withSubject("alice")
            .withExpiresAt(java.time.Instant.now().plusSeconds(600))
            .sign(
                com.auth0.jwt.algorithms.Algorithm.HMAC256(
                    java.util.Base64.getDecoder().decode(secret)));
    dev.affinity.RoutingDecision d =
        router.select(
            dev.affinity.RoutingRequest.builder()
                .remoteAddress("192.0.2.1", 1000)
                .queryParameter("token", token)
                .build());
    assertThat(d.strategy()).isEqualTo("jwt");
    assertThat(d.explanation()).contains("tenant+sub").doesNotContain(token);
    dev.affinity.RoutingDecision forged =
        router.select(
            dev.affinity.RoutingRequest.builder()
                .remoteAddress("192.0.2.1", 1000)
                .queryParameter("token", token.substring(0, token.length() - 2) + "xx")
                .build());
    assertThat(forged.strategy()).isEqualTo("source-ip");
  }

  @Test
  void jwt_withAnRsaPublicKeyInPem_isAccepted(@TempDir Path dir) throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    java.security.KeyPair pair = g.generateKeyPair();
    Path pem = dir.resolve("issuer.pem");
    Files.writeString(
        pem,
        "-----BEGIN PUBLIC KEY-----\n"
            + java.util.Base64.getMimeEncoder(
                    64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(pair.getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n");
    assertThat(
            validateAndBuild(
                Map.of(),
                "--backend",
                "id=a,uri=ws://127.0.0.1:1",
                "--strategy",
                "cookie,jwt",
                "--jwt-algorithm",
                "RS256",
                "--jwt-key-file",
                pem.toString()))
        .isZero();
    err.getBuffer().setLength(0);
    assertThat(
            failure(
                "--backend", "id=a,uri=ws://127.0.0.1:1",
                "--strategy", "jwt",
                "--jwt-algorithm", "ES256",
                "--jwt-key-file", pem.toString()))
        .contains("--jwt-key-file")
        .contains("ES256");
  }

  @Test
  void unreadableKeyFiles_nameTheFileAndTheReason(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("nonexistent.key");
    assertThat(
            failure("--backend", "id=a,uri=ws://h:1", "--cookie-secret-file", missing.toString()))
        .contains("--cookie-secret-file")
        .contains(missing.toString() + ": no such file");
    err.getBuffer().setLength(0);
    assertThat(
            failure(
                "--backend", "id=a,uri=ws://h:1",
                "--strategy", "jwt",
                "--jwt-algorithm", "HS256",
                "--jwt-key-file", missing.toString()))
        .contains("--jwt-key-file: cannot read " + missing + ": no such file");
    err.getBuffer().setLength(0);
    Path notBase64 = dir.resolve("hs.key");
    Files.writeString(notBase64, "sec%ret!sec%ret!sec%ret!sec%ret!\n");
    assertThat(
            failure(
                "--backend", "id=a,uri=ws://h:1",
                "--strategy", "jwt",
                "--jwt-algorithm", "HS256",
                "--jwt-key-file", notBase64.toString()))
        .contains("--jwt-key-file: " + notBase64 + ": not Base64")
        .doesNotContain("<redacted>")
        .doesNotContain("sec%ret");
  }

  @Test
  void admin_needsExactlyOneTokenSource_andNamesTheTokenFileProblem(@TempDir Path dir)
      throws Exception {
    assertThat(failure("--backend", "id=a,uri=ws://h:1", "--admin", "127.0.0.1:0"))
        .contains("--admin: no token");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=a,uri=ws://h:1", "--admin-token-env", "T"))
        .contains("without --admin");
    err.getBuffer().setLength(0);
    Path tokens = dir.resolve("admin.tokens");
    Files.writeString(tokens, "ops:short\n");
    ProxyCommand c =
        parse(
            "--backend", "id=a,uri=ws://h:1",
            "--admin", "127.0.0.1:0",
            "--admin-token-file", tokens.toString());
    assertThatThrownBy(c::adminTokens)
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--admin-token-file: " + tokens + " line 1: token of 5 characters")
        .hasMessageNotContaining("short");
    ProxyCommand missing =
        parse(
            "--backend", "id=a,uri=ws://h:1",
            "--admin", "127.0.0.1:0",
            "--admin-token-file", dir.resolve("none").toString());
    assertThatThrownBy(missing::adminTokens).hasMessageContaining(": no such file");
  }

  @Test
  void jwt_misconfigurations_nameTheFlag() {
    assertThat(failure("--backend", "id=a,uri=ws://h:1", "--strategy", "jwt"))
        .contains("--strategy jwt needs --jwt-algorithm");
    err.getBuffer().setLength(0);
    assertThat(failure("--backend", "id=a,uri=ws://h:1", "--jwt-algorithm", "HS256"))
        .contains("without jwt in --strategy");
    err.getBuffer().setLength(0);
    assertThat(failure("--jwt-algorithm", "HS257")).contains("--jwt-algorithm");
    err.getBuffer().setLength(0);
    String shortSecret = "c2hvcnQ=";
    assertThat(
            failure(
                Map.of("K", shortSecret),
                "--backend",
                "id=a,uri=ws://h:1",
                "--strategy",
                "jwt",
                "--jwt-algorithm",
                "HS256",
                "--jwt-key-env",
                "K"))
        .contains("--jwt-key-env")
        .contains("at least 32 bytes")
        .doesNotContain(shortSecret);
    err.getBuffer().setLength(0);
    assertThat(
            failure(
                Map.of("K", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVzIQ=="),
                "--backend",
                "id=a,uri=ws://h:1",
                "--strategy",
                "jwt",
                "--jwt-algorithm",
                "HS256",
                "--jwt-key-env",
                "K",
                "--jwt-from",
                "header:X-Token"))
        .contains("--jwt-from")
        .contains("'header:X-Token'");
  }

  @Test
  void hashRendezvousTable_makesTheHashStrategiesRendezvousTables_boundedIfAsked() {
    ProxyCommand c =
        parse(
            "--backend", "id=a,uri=ws://127.0.0.1:1",
            "--strategy", "header:X-User,source-ip",
            "--hash", "rendezvous-table");
    c.validate();
    Router router = c.buildRouter(BackendGroup.create(), new PrintWriter(err, true));
    assertThat(router.strategies())
        .extracting(AffinityStrategy::name)
        .containsExactly("rendezvous-table", "source-ip-table");
    ProxyCommand bounded =
        parse(
            "--backend", "id=a,uri=ws://127.0.0.1:1",
            "--strategy", "source-ip",
            "--hash", "rendezvous-table",
            "--bounded-load", "1.25");
    bounded.validate();
    assertThat(bounded.buildRouter(BackendGroup.create(), new PrintWriter(err, true)).strategies())
        .extracting(AffinityStrategy::name)
        .containsExactly("bounded-load(source-ip-table)");
    err.getBuffer().setLength(0);
    assertThat(failure("--hash", "ring")).contains("rendezvous, rendezvous-table or maglev");
  }

  @Test
  void hashMaglev_makesTheHashStrategiesTableBased_andRefusesBoundedLoad() {
    ProxyCommand c =
        parse(
            "--backend", "id=a,uri=ws://127.0.0.1:1",
            "--strategy", "header:X-User,source-ip",
            "--hash", "maglev");
    c.validate();
    Router router = c.buildRouter(BackendGroup.create(), new PrintWriter(err, true));
    assertThat(router.strategies()).allSatisfy(s -> assertThat(s.name()).contains("maglev"));
    err.getBuffer().setLength(0);
    assertThat(
            failure(
                "--backend", "id=a,uri=ws://h:1",
                "--strategy", "source-ip",
                "--hash", "maglev",
                "--bounded-load", "1.25"))
        .contains("--bounded-load with --hash maglev");
    err.getBuffer().setLength(0);
    assertThat(failure("--hash", "ring")).contains("--hash");
  }
}
