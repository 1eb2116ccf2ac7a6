package dev.affinity.proxy;

import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/**
 * The entry point of {@code affinity-proxy.jar}: {@code java -jar affinity-proxy.jar --help}. See
 * {@link ProxyCommand} for the flags; {@link #run} lets another jar (the examples' demo) reuse the
 * same command line.
 */
public final class AffinityProxy {
  /** Exit status for a bad flag. */
  static final int USAGE_ERROR = 2;

  /** Exit status when the proxy cannot start (a port in use, a backend unreachable, ...). */
  static final int START_FAILED = 1;

  private static final String LOG_FORMAT = "java.util.logging.SimpleFormatter.format";

  private AffinityProxy() {}

  /**
   * Runs the proxy until SIGTERM or Ctrl-C; exits with {@value #USAGE_ERROR} for a bad flag and
   * {@value #START_FAILED} when it cannot start.
   */
  public static void main(String[] args) {
    run(new ProxyCommand(), args);
  }

  /**
   * Runs {@code command} with {@code args} on the process's standard streams until SIGTERM or
   * Ctrl-C, then exits the JVM with a non-zero status if it failed.
   *
   * @param command the command, with or without a {@link DemoMode}
   * @param args the command-line arguments
   */
  public static void run(ProxyCommand command, String[] args) {
    // One line per log record, before anything logs (the JDK's default takes two).
    if (System.getProperty(LOG_FORMAT) == null) {
      System.setProperty(LOG_FORMAT, "%1$tT %4$s %3$s: %5$s%6$s%n");
    }
    // The platform's charset, as PrintWriter(OutputStream) picks it, but said out loud.
    PrintWriter out = new PrintWriter(System.out, true, Charset.defaultCharset());
    PrintWriter err = new PrintWriter(System.err, true, Charset.defaultCharset());
    CommandLine cl = commandLine(command, out, err);
    int status;
    try {
      status = cl.execute(withConfigFile(cl, command, args));
    } catch (IllegalArgumentException e) {
      err.println("affinity-proxy: --config: " + e.getMessage());
      status = USAGE_ERROR;
    }
    if (status != 0) {
      System.exit(status);
    }
  }

  /**
   * The picocli command line for {@code command}, writing to {@code out} and {@code err}: a bad
   * flag prints one line naming it and a hint, not the whole usage. Without a {@link DemoMode} the
   * demo's flags are not offered.
   *
   * @param command the command whose flags to parse
   * @param out where help and the startup lines go
   * @param err where errors go
   * @return the command line, ready to parse or execute
   */
  public static CommandLine commandLine(ProxyCommand command, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(command);
    if (!command.hasDemo()) {
      CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
      for (String demoFlag : new String[] {"--demo", "--demo-page"}) {
        CommandLine.Model.OptionSpec option = spec.findOption(demoFlag);
        if (option != null) {
          spec.remove(option);
        }
      }
    }
    cl.setCaseInsensitiveEnumValuesAllowed(true); // --jwt-algorithm rs256, --jwt-invalid abstain
    cl.setOut(out);
    cl.setErr(err);
    cl.setParameterExceptionHandler(
        (e, args) -> {
          PrintWriter w = e.getCommandLine().getErr();
          w.println("affinity-proxy: " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, w);
          w.println("Try 'affinity-proxy --help' for the flags.");
          w.flush();
          return USAGE_ERROR;
        });
    cl.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          PrintWriter w = c.getErr();
          if (e instanceof CommandLine.ParameterException) {
            return c.getParameterExceptionHandler()
                .handleParseException((CommandLine.ParameterException) e, new String[0]);
          }
          w.println("affinity-proxy: cannot start: " + describe(e));
          w.flush();
          return START_FAILED;
        });
    return cl;
  }

  /**
   * {@code args} with the flags of the {@code --config} file they name put first, so that the
   * command line overrides the file: a single-valued flag given on the command line wins, and a
   * repeatable one (such as {@code --backend}) given there replaces the file's list. Without {@code
   * --config}, {@code args} unchanged.
   *
   * @throws IllegalArgumentException naming the file, the line and what is wrong with it
   */
  static String[] withConfigFile(CommandLine cl, ProxyCommand command, String[] args) {
    command.commandLineArgs = List.of(args);
    String file = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        file = args[i].substring("--config=".length());
      }
    }
    if (file == null) {
      return args;
    }
    CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
    List<String> fromFile = ConfigFile.read(Path.of(file), spec.optionsMap().keySet());
    Set<String> repeatedOnCommandLine = new HashSet<>();
    for (String a : args) {
      String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      CommandLine.Model.OptionSpec o = spec.findOption(name);
      if (o != null && o.isMultiValue()) {
        repeatedOnCommandLine.add(o.longestName());
      }
    }
    List<String> merged = new ArrayList<>();
    for (int i = 0; i < fromFile.size(); i++) {
      String a = fromFile.get(i);
      CommandLine.Model.OptionSpec o = spec.findOption(a);
      boolean takesValue = o != null && o.arity().max() > 0;
      if (o != null && repeatedOnCommandLine.contains(o.longestName())) {
        i += takesValue ? 1 : 0;
        continue;
      }
      merged.add(a);
    }
    merged.addAll(List.of(args));
    cl.setOverwrittenOptionsAllowed(true);
    return merged.toArray(new String[0]);
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
        sb.append(": ").append(c.getMessage());
      }
    }
    return sb.toString();
  }
}
