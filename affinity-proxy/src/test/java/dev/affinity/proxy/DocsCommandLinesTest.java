package dev.affinity.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Every proxy command line the operator guides show is one the proxy accepts: the flags of each
 * {@code java -jar affinity-proxy...} line in a {@code bash} or {@code sh} block (and a systemd
 * unit's {@code ExecStart}), of each {@code *.conf} entry of a ConfigMap in a {@code yaml} block,
 * and of each container's {@code args} in a Deployment (with {@code @FILE} replaced by the
 * ConfigMap's flags) are run through the proxy's own flag parser and its cross-flag checks. A
 * renamed or mistyped flag in the docs fails here.
 */
class DocsCommandLinesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @ParameterizedTest
  @ValueSource(strings = {"deploy.md", "operations.md"})
  void everyProxyCommandLineInTheGuide_parses(String guide) throws Exception {
    String text = Files.readString(Path.of("..", "docs", guide), UTF_8);
    List<List<String>> commandLines = new ArrayList<>();
    for (Block b : blocks(text)) {
      if (b.language.equals("bash") || b.language.equals("sh")) {
        commandLines.addAll(bashCommandLines(b.body));
      } else if (b.language.equals("ini")) {
        commandLines.addAll(bashCommandLines(b.body.replace("ExecStart=", "")));
      } else if (b.language.equals("yaml") && b.body.contains("kind:")) {
        commandLines.addAll(yamlCommandLines(b.body));
      }
    }
    if (guide.equals("deploy.md")) {
      // TLS, the systemd unit, the single-proxy and the fleet Kubernetes examples at least.
      assertThat(commandLines).hasSizeGreaterThanOrEqualTo(5);
      assertThat(commandLines)
          .anySatisfy(
              args -> assertThat(args).contains("--redis", "--backend-dns", "--learn-key-file"));
    } else {
      assertThat(commandLines).anySatisfy(args -> assertThat(args).contains("--learn"));
    }
    for (List<String> args : commandLines) {
      ProxyCommand command = new ProxyCommand(Map.<String, String>of()::get);
      StringWriter sink = new StringWriter();
      PrintWriter w = new PrintWriter(sink, true);
      CommandLine cl = AffinityProxy.commandLine(command, w, w);
      cl.setExpandAtFiles(false);
      try {
        cl.parseArgs(args.toArray(new String[0]));
        command.validate();
      } catch (CommandLine.ParameterException e) {
        throw new AssertionError(guide + ": " + args + " is refused: " + e.getMessage(), e);
      }
    }
  }

  private record Block(String language, String body) {}

  private static List<Block> blocks(String markdown) {
    List<Block> out = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].startsWith("```") && lines[i].length() > 3) {
        String language = lines[i].substring(3).trim();
        StringBuilder body = new StringBuilder();
        for (i++; i < lines.length && !lines[i].startsWith("```"); i++) {
          body.append(lines[i]).append('\n');
        }
        out.add(new Block(language, body.toString()));
      }
    }
    return out;
  }

  /** The arguments after {@code affinity-proxy*.jar} of each (continued) shell line. */
  private static List<List<String>> bashCommandLines(String body) {
    List<List<String>> out = new ArrayList<>();
    String joined = body.replace("\\\n", " ");
    for (String line : joined.split("\n", -1)) {
      String code = line.strip();
      if (code.startsWith("#")) {
        continue;
      }
      List<String> words = shellWords(code);
      int jar = -1;
      for (int i = 0; i < words.size(); i++) {
        if (words.get(i).matches(".*affinity-proxy[^ ]*\\.jar")) {
          jar = i;
        }
      }
      if (jar >= 0 && words.contains("java")) {
        out.add(new ArrayList<>(words.subList(jar + 1, words.size())));
      }
    }
    return out;
  }

  /** Command lines of ConfigMap {@code *.conf} entries and of Deployment containers' args. */
  private static List<List<String>> yamlCommandLines(String body) throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(body)) {
      while (it.hasNext()) {
        docs.add(it.next());
      }
    }
    List<String> conf = new ArrayList<>();
    List<List<String>> out = new ArrayList<>();
    for (JsonNode d : docs) {
      if ("ConfigMap".equals(d.path("kind").asText())) {
        for (Map.Entry<String, JsonNode> e : d.path("data").properties()) {
          if (e.getKey().endsWith(".conf")) {
            List<String> words = new ArrayList<>();
            for (String line : e.getValue().asText().split("\n", -1)) {
              words.addAll(shellWords(line.strip()));
            }
            conf = words;
            out.add(words);
          }
        }
      }
    }
    for (JsonNode d : docs) {
      if ("Deployment".equals(d.path("kind").asText())) {
        for (JsonNode c : d.path("spec").path("template").path("spec").path("containers")) {
          if (!c.path("image").asText().contains("affinity-proxy") || !c.has("args")) {
            continue;
          }
          List<String> args = new ArrayList<>();
          for (JsonNode a : c.path("args")) {
            if (a.asText().startsWith("@")) {
              args.addAll(conf);
            } else {
              args.add(a.asText());
            }
          }
          out.add(args);
        }
      }
    }
    return out;
  }

  /** Splits like a shell: whitespace, single and double quotes (no expansions). */
  private static List<String> shellWords(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (quote != 0) {
        if (ch == quote) {
          quote = 0;
        } else {
          w.append(ch);
        }
      } else if (ch == '\'' || ch == '"') {
        quote = ch;
        inWord = true;
      } else if (Character.isWhitespace(ch)) {
        if (inWord) {
          words.add(w.toString());
          w.setLength(0);
          inWord = false;
        }
      } else if (ch == '#' && !inWord) {
        break;
      } else {
        w.append(ch);
        inWord = true;
      }
    }
    if (inWord) {
      words.add(w.toString());
    }
    return words;
  }
}
