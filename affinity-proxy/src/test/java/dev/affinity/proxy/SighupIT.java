package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import dev.affinity.testkit.Await;
import dev.affinity.testkit.EchoBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code target/affinity-proxy.jar} as a real process: a real SIGHUP (sent with {@code kill -HUP})
 * reloads its {@code --config} file, and a broken file is refused while it keeps running.
 */
@EnabledOnOs({OS.LINUX, OS.MAC})
class SighupIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static String await(Path log, Pattern pattern) {
    AtomicReference<@Nullable String> found = new AtomicReference<>();
    Await.until(
        pattern + " in " + log,
        WAIT,
        () -> {
          Matcher m = pattern.matcher(read(log));
          if (m.find()) {
            found.set(m.group());
            return true;
          }
          return false;
        });
    return requireNonNull(found.get(), "match");
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void hangup(Process p) throws Exception {
    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start();
    assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  @Test
  void sighup_reloadsTheConfigFile_andABrokenOneIsRefused(@TempDir Path tmp) throws Exception {
    Path jar = Path.of(System.getProperty("affinity.proxyJar", "target/affinity-proxy.jar"));
    assertThat(jar).exists();
    try (EchoBackend ws1 = EchoBackend.start("ws-1");
        EchoBackend ws2 = EchoBackend.start("ws-2")) {
      Path config = tmp.resolve("proxy.yaml");
      String one =
          "listen: 127.0.0.1:0\nbackends:\n  - {id: ws-1, uri: \"ws://127.0.0.1:"
              + ws1.port()
              + "\"}\n";
      Files.writeString(config, one);
      Path log = tmp.resolve("proxy.log");
      Process p =
          new ProcessBuilder(
                  List.of(
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "-jar",
                      jar.toString(),
                      "--config",
                      config.toString()))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      try {
        // Not "listening": the SIGHUP handler is installed after that line, and a SIGHUP before
        // it ends the JVM.
        await(log, Pattern.compile("SIGHUP reloads "));
        Files.writeString(
            config, one + "  - {id: ws-2, uri: \"ws://127.0.0.1:" + ws2.port() + "\"}\n");
        hangup(p);
        await(log, Pattern.compile("reloaded \\S+: backends \\+1 -0 ~0 \\(2\\)"));

        Files.writeString(config, "backends: [\n");
        hangup(p);
        await(log, Pattern.compile("refused, keeping the running configuration: .*not valid YAML"));
        assertThat(p.isAlive()).isTrue();
      } finally {
        p.destroy();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
