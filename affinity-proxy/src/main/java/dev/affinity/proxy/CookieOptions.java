package dev.affinity.proxy;

import dev.affinity.AffinityConfigurationException;
import dev.affinity.strategy.CookieAffinity;
import dev.affinity.strategy.CookieKey;
import dev.affinity.strategy.CookieKeys;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The {@code --cookie-*} flags of the cookie strategy, and building its configuration. */
final class CookieOptions {
  @Option(
      names = "--cookie-name",
      paramLabel = "NAME",
      defaultValue = CookieAffinity.DEFAULT_NAME,
      description = "The affinity cookie's name. Default: ${DEFAULT-VALUE}.")
  String name = CookieAffinity.DEFAULT_NAME;

  @Option(
      names = "--cookie-secret-file",
      paramLabel = "PATH",
      description =
          "A file holding the cookie signing secret as Base64 (at least 32 bytes: openssl rand"
              + " -base64 32). Give every proxy instance the same one.")
  @Nullable Path secretFile;

  @Option(
      names = "--cookie-secret-env",
      paramLabel = "VAR",
      description = "An environment variable holding the cookie signing secret as Base64.")
  @Nullable String secretEnv;

  @Option(
      names = "--cookie-key-id",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "The id (0..255) written into cookies signed with the secret; raise it when rotating."
              + " Default: ${DEFAULT-VALUE}.")
  int keyId = 1;

  @Option(
      names = "--cookie-old-secret-file",
      paramLabel = "ID=PATH",
      description =
          "A previous secret still accepted during a key rotation (repeatable), with the id it"
              + " was used under.")
  Map<Integer, Path> oldSecretFiles = new LinkedHashMap<>();

  @Option(
      names = "--cookie-max-age",
      paramLabel = "DURATION",
      converter = Converters.DurationSpec.class,
      description =
          "How long a cookie is honoured after it was issued, enforced by the proxy. Default: 1d.")
  @Nullable Duration maxAge;

  @Option(
      names = "--cookie-secure",
      description =
          "Always mark the cookie Secure (use it when TLS ends in front of this proxy). By default"
              + " it is Secure only on TLS requests.")
  boolean secure;

  /** Refuses flags that exclude each other. */
  void validate(CommandLine cl) {
    if (secretFile != null && secretEnv != null) {
      throw new ParameterException(
          cl, "--cookie-secret-file and --cookie-secret-env (expected: at most one of them)");
    }
  }

  /**
   * The cookie strategy's configuration. Error messages name the flag and never contain a secret
   * (core's key factories redact them).
   *
   * @param warnIfRandom whether to warn that no secret was given, so a random one is used
   * @throws ParameterException naming the flag core rejected
   */
  CookieAffinity build(
      CommandLine cl,
      Function<String, @Nullable String> environment,
      boolean warnIfRandom,
      PrintWriter warnings) {
    CookieKey signing;
    if (secretFile != null) {
      Path file = secretFile;
      signing = key(cl, "--cookie-secret-file", () -> CookieKey.fromFile(keyId, file));
    } else if (secretEnv != null) {
      String value = environment.apply(secretEnv);
      if (value == null || value.isBlank()) {
        throw new ParameterException(
            cl,
            "--cookie-secret-env: " + secretEnv + " is not set (expected: a Base64 secret in it)");
      }
      signing = key(cl, "--cookie-secret-env", () -> CookieKey.fromBase64(keyId, value));
    } else {
      byte[] secret = new byte[32];
      new SecureRandom().nextBytes(secret);
      signing = key(cl, "--cookie-key-id", () -> CookieKey.of(keyId, secret));
      if (warnIfRandom) {
        warnings.println(
            "affinity-proxy: warning: no --cookie-secret-file or --cookie-secret-env; using a"
                + " random secret, so cookies will not survive a restart nor agree across proxy"
                + " instances");
      }
    }
    List<CookieKey> old = new ArrayList<>();
    for (Map.Entry<Integer, Path> e : oldSecretFiles.entrySet()) {
      old.add(
          key(cl, "--cookie-old-secret-file", () -> CookieKey.fromFile(e.getKey(), e.getValue())));
    }
    CookieKeys keys;
    try {
      keys = CookieKeys.of(signing, old.toArray(new CookieKey[0]));
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--cookie-old-secret-file: " + e.getMessage(), e);
    }
    CookieAffinity.Builder b = CookieAffinity.builder(keys);
    try {
      b.name(name);
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--cookie-name: " + e.getMessage(), e);
    }
    try {
      if (maxAge != null) {
        b.maxAge(maxAge);
      }
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, "--cookie-max-age: " + e.getMessage(), e);
    }
    if (secure) {
      b.secure(true);
    }
    return b.build();
  }

  private static CookieKey key(CommandLine cl, String flag, Supplier<CookieKey> load) {
    try {
      return load.get();
    } catch (AffinityConfigurationException e) {
      throw new ParameterException(cl, flag + ": " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      Throwable cause = e.getCause(); // never null for an UncheckedIOException
      throw new ParameterException(
          cl,
          flag + ": " + e.getMessage() + ": " + FileErrors.reason(cause != null ? cause : e),
          e);
    }
  }
}
