package dev.affinity.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's "two commands" stay exactly the ones that are tested: {@link DemoJarIT} runs the jar
 * the first one starts, and {@code .ci/run} runs the second.
 */
class ReadmeCommandsTest {
  static final String DEMO_COMMAND =
      "./mvnw -B -q package -DskipTests && java -jar affinity-examples/target/affinity-examples.jar";
  static final String TEST_COMMAND = "./mvnw -B verify";

  @Test
  void readme_givesTheTwoTestedCommands() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("## The two commands");
    assertThat(section).as("README section").isNotNegative();
    int begin = readme.indexOf("```sh\n", section) + "```sh\n".length();
    int end = readme.indexOf("```", begin);
    List<String> commands = readme.substring(begin, end).strip().lines().toList();
    assertThat(commands).containsExactly(DEMO_COMMAND, TEST_COMMAND);
  }

  @Test
  void ci_runsTheTestCommand_andRequiresTheBrowser() throws IOException {
    List<String> ci = Files.readAllLines(Path.of("..", ".ci", "run"));
    assertThat(ci).contains(TEST_COMMAND, "export AFFINITY_REQUIRE_BROWSER=1");
  }

  @Test
  void gettingStarted_givesTheSameCommands() throws IOException {
    String guide = Files.readString(Path.of("..", "docs", "getting-started.md"));
    assertThat(guide).contains(DEMO_COMMAND + "\n" + TEST_COMMAND + "\n");
  }
}
