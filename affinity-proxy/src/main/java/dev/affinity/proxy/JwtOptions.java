package dev.affinity.proxy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.strategy.JwtAffinity;
import dev.affinity.strategy.JwtAlgorithm;
import dev.affinity.strategy.TokenSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The {@code --jwt-*} flags of the JWT strategy, and building its configuration. */
final class JwtOptions {
  private static final String PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";
  private static final String PEM_END = "-----END PUBLIC KEY-----";

  @Option(
      names = "--jwt-algorithm",
      paramLabel = "ALG",
      description =
          "The one algorithm tokens must be signed with: HS256/384/512 (shared secret),"
              + " RS256/384/512 or ES256/384/512 (the issuer's public key).")
  @Nullable JwtAlgorithm algorithm;

  @Option(
      names = "--jwt-key-file",
      paramLabel = "PATH",
      description =
          "The verification key: for HS a Base64 secret, for RS and ES a PEM public key"
              + " (-----BEGIN PUBLIC KEY-----).")
  @Nullable Path keyFile;

  @Option(
      names = "--jwt-key-env",
      paramLabel = "VAR",
      description = "An environment variable holding the verification key, as --jwt-key-file.")
  @Nullable String keyEnv;

  @Option(
      names = "--jwt-from",
      paramLabel = "LIST",
      split = ",",
      description =
          "Where tokens are read, in order: bearer (Authorization header), subprotocol[:PREFIX]"
              + " (a Sec-WebSocket-Protocol entry, default prefix bearer.), cookie:NAME,"
              + " query:NAME. Default: bearer,subprotocol.")
  List<String> sources = new ArrayList<>(List.of("bearer", "subprotocol"));

  @Option(
      names = "--jwt-claim",
      paramLabel = "LIST",
      split = ",",
      description =
          "The claim, or claims in order (tenant,sub), whose values are the rendezvous key."
              + " Default: sub.")
  List<String> claims = new ArrayList<>(List.of("sub"));

  @Option(
      names = "--jwt-backend-claim",
      paramLabel = "NAME",
      description = "Instead of --jwt-claim: a claim whose value is the backend id to pin to.")
  @Nullable String backendClaim;

  @Option(
      names = "--jwt-issuer",
      paramLabel = "ISS",
      description = "An accepted iss (repeatable). Default: any.")
  List<String> issuers = new ArrayList<>();

  @Option(
      names = "--jwt-audience",
      paramLabel = "AUD",
      description = "An accepted aud (repeatable). Default: any.")
  List<String> audiences = new ArrayList<>();

  @Option(
      names = "--jwt-leeway",
      paramLabel = "DURATION",
      converter = Converters.DurationSpec.class,
      description = "Clock skew allowed on exp and nbf. Default: 30s.")
  @Nullable Duration leeway;

  @Option(
      names = "--jwt-invalid",
      paramLabel = "reject|abstain",
      description =
          "A present but invalid token: reject (401) or abstain (the next strategy decides)."
              + " Default: reject.")
  JwtAffinity.@Nullable InvalidTokenPolicy invalidPolicy;

  /** Refuses a JWT strategy without an algorithm and key, and JWT flags without a JWT strategy. */
  void validate(CommandLine cl, boolean used) {
    if (keyFile != null && keyEnv != null) {
      throw new ParameterException(
          cl, "--jwt-key-file and --jwt-key-env (expected: at most one of them)");
    }
    if (used && (algorithm == null || (keyFile == null && keyEnv == null))) {
      throw new ParameterException(
          cl,
          "--strategy jwt needs --jwt-algorithm and --jwt-key-file or --jwt-key-env (expected:"
              + " the algorithm and key your issuer signs with)");
    }
    if (!used && (algorithm != null || keyFile != null || keyEnv != null)) {
      throw new ParameterException(
          cl, "--jwt-* flags without jwt in --strategy (expected: --strategy ...,jwt,...)");
    }
  }

  /**
   * The JWT strategy's configuration; call after {@link #validate} said it is used.
   *
   * @throws ParameterException naming the flag core rejected; never quoting a key
   */
  JwtAffinity build(CommandLine cl, Function<String, @Nullable String> environment) {
    JwtAlgorithm alg = java.util.Objects.requireNonNull(algorithm, "algorithm");
    // Errors name where the key came from (the file or the variable), never the key.
    String flag = keyFile != null ? "--jwt-key-file: " + keyFile : "--jwt-key-env: " + keyEnv;
    String text;
    if (keyFile != null) {
      try {
        text = Files.readString(keyFile, StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new ParameterException(
            cl, "--jwt-key-file: cannot read " + keyFile + ": " + FileErrors.reason(e), e);
      }
    } else {
      text = environment.apply(java.util.Objects.requireNonNull(keyEnv, "keyEnv"));
      if (text == null || text.isBlank()) {
        throw new ParameterException(cl, "--jwt-key-env: " + keyEnv + " is not set");
      }
    }
    JwtAffinity.Builder b;
    try {
      b =
          alg.family() == JwtAlgorithm.Family.HMAC
              ? JwtAffinity.builder(alg, base64(cl, flag, text.strip()))
              : JwtAffinity.builder(alg, publicKey(cl, flag, alg, text));
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, flag + ": " + e.getMessage(), e);
    }
    try {
      b.sources(tokenSources(cl));
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--jwt-from: " + e.getMessage(), e);
    }
    try {
      if (backendClaim != null) {
        b.backendClaim(backendClaim);
      } else {
        b.claims(claims.toArray(new String[0]));
      }
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(
          cl,
          (backendClaim != null ? "--jwt-backend-claim: " : "--jwt-claim: ") + e.getMessage(),
          e);
    }
    try {
      if (!issuers.isEmpty()) {
        b.issuer(issuers.toArray(new String[0]));
      }
      if (!audiences.isEmpty()) {
        b.audience(audiences.toArray(new String[0]));
      }
      if (leeway != null) {
        b.leeway(leeway);
      }
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(
          cl, "--jwt-issuer/--jwt-audience/--jwt-leeway: " + e.getMessage(), e);
    }
    if (invalidPolicy != null) {
      b.invalidToken(invalidPolicy);
    }
    return b.build();
  }

  private TokenSource[] tokenSources(CommandLine cl) {
    List<TokenSource> out = new ArrayList<>();
    for (String s : sources) {
      String t = s.trim();
      int colon = t.indexOf(':');
      String kind = (colon < 0 ? t : t.substring(0, colon)).toLowerCase(Locale.ROOT);
      String arg = colon < 0 ? null : t.substring(colon + 1);
      if (kind.equals("bearer") && arg == null) {
        out.add(TokenSource.authorizationBearer());
      } else if (kind.equals("subprotocol")) {
        out.add(arg == null ? TokenSource.webSocketProtocol() : TokenSource.webSocketProtocol(arg));
      } else if (kind.equals("cookie") && arg != null) {
        out.add(TokenSource.cookie(arg));
      } else if (kind.equals("query") && arg != null) {
        out.add(TokenSource.queryParameter(arg));
      } else {
        throw new ParameterException(
            cl,
            "--jwt-from: '"
                + s
                + "' (expected: bearer, subprotocol[:PREFIX], cookie:NAME or query:NAME)");
      }
    }
    return out.toArray(new TokenSource[0]);
  }

  private static byte[] base64(CommandLine cl, String flag, String text) {
    try {
      return text.indexOf('-') >= 0 || text.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(text)
          : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      // The decoder's message may quote the secret: do not pass it on.
      throw new ParameterException(
          cl, flag + ": not Base64 (expected: a Base64 secret for an HS algorithm)");
    }
  }

  /** An X.509 SubjectPublicKeyInfo in PEM, read with the JDK's own key factory. */
  private static PublicKey publicKey(CommandLine cl, String flag, JwtAlgorithm alg, String pem) {
    int begin = pem.indexOf(PEM_BEGIN);
    int end = pem.indexOf(PEM_END);
    if (begin < 0 || end < begin) {
      throw new ParameterException(
          cl,
          flag
              + ": not a PEM public key (expected: "
              + PEM_BEGIN
              + " ... "
              + PEM_END
              + " for "
              + alg
              + ")");
    }
    try {
      byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + PEM_BEGIN.length(), end));
      String type = alg.family() == JwtAlgorithm.Family.RSA ? "RSA" : "EC";
      return KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new ParameterException(
          cl,
          flag + ": the PEM public key does not parse as a " + alg + " key: " + e.getMessage(),
          e);
    }
  }
}
