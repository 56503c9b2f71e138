package io.inferencegateway;

import io.inferencegateway.backup.BackupCommand;
import io.inferencegateway.config.ConfigLoader;
import io.inferencegateway.config.GatewayConfig;
import io.inferencegateway.simulator.SimulatorCommand;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar inference-gateway.jar <run|demo|simulate> [options]}. The only place that waits on futures
 * ({@code await}) outside tests: it is the main thread, not an event loop.
 */
public final class Main {

  static final String USAGE = """
      Usage: java -jar inference-gateway.jar <command> [options]

      Commands:
        run        Start the gateway (settings: conf/config.json, then environment variables)
        demo       Start the gateway with the built-in vLLM simulator serving both preset models,
                   registered with one replica each, and print the console URL, admin key and a demo API key
        simulate   Run the vLLM simulator alone (see: simulate --help)
        backup     Take a database backup now, with the settings 'run' uses (see: backup --help)
        restore    Load a backup file into the configured database (see: restore --help)

      Run 'java -jar inference-gateway.jar <command> --help' for a command's options.
      """;

  static final String RUN_USAGE = """
      Usage: java -jar inference-gateway.jar run [--config FILE]

      Starts the gateway. Settings come from FILE (default ./conf/config.json, else the bundled defaults),
      overridden by environment variables:
        HTTP_PORT            port of the API and console (default 5001)
        ADMIN_API_KEY        admin key; if unset, one is generated on first start, printed once, stored hashed
        APP_PASSWORD         console password
        DATABASE_URL         mysql://user:pass@host:port/db (unset: embedded database under DATA_DIR)
        DATA_DIR             directory of the embedded database and the usage journal (default ./data)
        SHUTDOWN_DRAIN_SECONDS  on SIGTERM, how long requests in flight may finish (default 30)
        REDIS_URL            redis://host:port for limits shared by several gateways (unset: in-process)
        HYPERSTACK_API_KEY   enables deploying replicas on Hyperstack
        CLUSTER_MEMBERS      host:port,host:port of every gateway instance (this one included): cluster mode
        CLUSTER_HOST         this instance's address in the cluster (default 127.0.0.1)
        CLUSTER_PORT         its Hazelcast port (default 5701); the event bus uses the next port
      """;

  static final String DEMO_USAGE = """
      Usage: java -jar inference-gateway.jar demo [--config FILE] [--simulator-port N]

      Starts the gateway as 'run' does, plus the built-in vLLM simulator (default port 5002) serving
      NousResearch/Meta-Llama-3.1-8B-Instruct and microsoft/Phi-3-medium-128k-instruct; registers both models with
      one replica each, stores request and response content for the Monitoring page, creates a demo API key, and
      prints the console URL, the admin key, the console password and the demo key.
      """;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    if (args.length == 0 || isHelp(args[0])) {
      System.out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String command = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      return switch (command) {
        case "run" -> runGateway(rest, false);
        case "demo" -> runGateway(rest, true);
        case "simulate" -> SimulatorCommand.run(rest);
        case "backup" -> BackupCommand.backup(rest);
        case "restore" -> BackupCommand.restore(rest);
        default -> {
          System.err.println("Unknown command '" + command + "'.\n");
          System.err.print(USAGE);
          yield 2;
        }
      };
    } catch (IllegalArgumentException e) {
      System.err.println("Error: " + e.getMessage());
      return 2;
    }
  }

  private static int runGateway(String[] args, boolean demo) {
    Path configFile = null;
    int simulatorPort = 5002;
    List<String> rest = new ArrayList<>(Arrays.asList(args));
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      if (isHelp(a)) {
        System.out.print(demo ? DEMO_USAGE : RUN_USAGE);
        return 0;
      } else if (a.equals("--config") && i + 1 < rest.size()) {
        configFile = Path.of(rest.get(++i));
      } else if (demo && a.equals("--simulator-port") && i + 1 < rest.size()) {
        simulatorPort = parsePort(rest.get(++i));
      } else {
        System.err.println("Unknown option '" + a + "'.\n");
        System.err.print(demo ? DEMO_USAGE : RUN_USAGE);
        return 2;
      }
    }
    GatewayConfig config = ConfigLoader.load(configFile, System.getenv());
    // before starting: a SIGTERM during the start stops the gateway gracefully once it is up
    java.util.concurrent.CountDownLatch signalled = stopSignals(config.http().drainSeconds());
    try {
      GatewayApp app;
      if (demo) {
        app = Demo.start(config, simulatorPort).await();
      } else {
        app = GatewayApp.start(config, GatewayApp.AdminKeyPolicy.GENERATE_ONCE, ControlPlane.mounter(config)).await();
        Banner.printRun(app);
      }
      return runUntilStopped(app, config.http().drainSeconds(), signalled);
    } catch (Exception e) {
      System.err.println("The gateway could not start: " + (e.getMessage() == null ? e : e.getMessage()));
      return 1;
    }
  }

  /**
   * Handles SIGTERM and SIGINT itself: without a handler, the JVM would answer SIGTERM by running the shutdown hooks
   * and exiting with 143. The latch opens on the first signal.
   */
  private static java.util.concurrent.CountDownLatch stopSignals(int drainSeconds) {
    java.util.concurrent.CountDownLatch signalled = new java.util.concurrent.CountDownLatch(1);
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
          if (signalled.getCount() > 0) {
            System.err.println("SIG" + name + ": draining (up to " + drainSeconds + " s), then stopping");
          }
          signalled.countDown();
        });
      } catch (IllegalArgumentException e) {
        // the signal is not available here (e.g. the JVM runs with -Xrs): the shutdown hook still stops the gateway
      }
    }
    return signalled;
  }

  /**
   * Serves until SIGTERM or SIGINT, then stops gracefully (see {@link GatewayApp#close}) and returns 0. The shutdown
   * hook stops it the same way on other ways out (System.exit elsewhere); close() is idempotent.
   */
  private static int runUntilStopped(GatewayApp app, int drainSeconds, java.util.concurrent.CountDownLatch signalled) {
    long limitSeconds = drainSeconds + 60L; // the drain, the abort grace, the journal's last commit and close
    Runnable stop = () -> {
      try {
        app.close().toCompletionStage().toCompletableFuture().get(limitSeconds, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("The gateway did not stop cleanly: " + e);
      }
    };
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "gateway-shutdown-hook"));
    try {
      signalled.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    stop.run();
    return 0;
  }

  private static boolean isHelp(String a) {
    return a.equals("--help") || a.equals("-h") || a.equals("help");
  }

  private static int parsePort(String s) {
    try {
      int p = Integer.parseInt(s);
      if (p < 0 || p > 65535) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a port number: " + s);
    }
  }
}
