package io.sn11.cluster.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Builds a node's configuration, highest priority first: explicit options (command line), the
 * operator's file, the packaged file of the command (e.g. {@code sn11/single-node.conf}), the
 * defaults of each module ({@code sn11/defaults/*.conf}), then every library's reference.conf.
 * Module defaults sit above reference.conf because they override library settings (the actor
 * provider, the journal plugin), which a reference.conf cannot do reliably: among several
 * reference.conf files the classpath order decides.
 */
public final class NodeConfig {
  private static final List<String> MODULE_DEFAULTS =
      List.of("sn11/defaults/cluster.conf", "sn11/defaults/coordinator.conf", "sn11/defaults/gpu-node.conf");

  private NodeConfig() {}

  /**
   * {@code morePackagedFiles} come below {@code packagedFile}, in their order: a packaged variant layered
   * over the command's file, e.g. {@code "postgres.conf", "single-node.conf"}.
   */
  public static Config load(Map<String, ?> options, Path operatorFile, String packagedFile, String... morePackagedFiles) {
    Config config = ConfigFactory.parseMap(options);
    if (operatorFile != null) {
      if (!Files.isRegularFile(operatorFile)) throw new IllegalArgumentException("configuration file " + operatorFile + " does not exist");
      config = config.withFallback(ConfigFactory.parseFile(operatorFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)));
    }
    if (packagedFile != null) config = config.withFallback(packaged(packagedFile));
    for (String more : morePackagedFiles) config = config.withFallback(packaged(more));
    for (String defaults : MODULE_DEFAULTS) config = config.withFallback(ConfigFactory.parseResources(defaults));
    return ConfigFactory.load(config);
  }

  private static Config packaged(String file) {
    return ConfigFactory.parseResources("sn11/" + file, ConfigParseOptions.defaults().setAllowMissing(false));
  }
}
