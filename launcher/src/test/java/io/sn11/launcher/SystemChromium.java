package io.sn11.launcher;

import com.sun.security.auth.module.UnixSystem;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's Chromium and its chromedriver, for the dashboard's browser test: found on the PATH, or
 * installed with apt-get when missing and the test runs as root (a fresh CI machine), so that the
 * README's test command is all a fresh machine needs.
 */
record SystemChromium(Path browser, Path driver) {
  private static final List<String> PACKAGES = List.of("chromium", "chromium-driver");
  private static final Path INSTALL_LOG = Path.of("target", "chromium-install.log");

  /** The browser and its driver, or why there are none (after trying to install them where possible). */
  static Result find() throws IOException, InterruptedException {
    Optional<SystemChromium> found = onPath();
    if (found.isPresent()) return new Result(found, null);
    if (onPath("apt-get").isEmpty()) return new Result(Optional.empty(), "no chromium or chromedriver on the PATH, and no apt-get to install them");
    if (new UnixSystem().getUid() != 0) {
      return new Result(Optional.empty(), "no chromium or chromedriver on the PATH; as root, apt-get install " + String.join(" ", PACKAGES));
    }
    run(List.of("apt-get", "update", "-qq"), 10);
    run(Stream.concat(Stream.of("apt-get", "install", "-y", "-qq"), PACKAGES.stream()).toList(), 10);
    found = onPath();
    return found.isPresent()
        ? new Result(found, null)
        : new Result(Optional.empty(), "apt-get install " + String.join(" ", PACKAGES) + " did not provide them; see " + INSTALL_LOG.toAbsolutePath());
  }

  record Result(Optional<SystemChromium> chromium, String missing) {}

  private static Optional<SystemChromium> onPath() {
    Optional<Path> browser = onPath("chromium", "chromium-browser", "google-chrome");
    Optional<Path> driver = onPath("chromedriver");
    return browser.isPresent() && driver.isPresent() ? Optional.of(new SystemChromium(browser.get(), driver.get())) : Optional.empty();
  }

  private static Optional<Path> onPath(String... names) {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.of(names)
        .flatMap(name -> Stream.of(path.split(File.pathSeparator)).map(folder -> Path.of(folder, name)))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /** Runs a command (for at most {@code minutes}), its output appended to the install log. */
  private static void run(List<String> command, int minutes) throws IOException, InterruptedException {
    Files.createDirectories(INSTALL_LOG.getParent());
    Files.writeString(INSTALL_LOG, "$ " + String.join(" ", command) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(INSTALL_LOG.toFile()));
    builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
    Process process = builder.start();
    if (!process.waitFor(minutes, TimeUnit.MINUTES)) process.destroyForcibly();
  }
}
