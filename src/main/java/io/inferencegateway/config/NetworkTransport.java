package io.inferencegateway.config;

import io.vertx.core.transport.Transport;

import java.util.Locale;

/**
 * Which of Netty's network transports the gateway runs on ({@code http.transport}, env {@code NETWORK_TRANSPORT}).
 * "auto" takes io_uring where the kernel allows it (submissions and completions pass through rings shared with the
 * kernel: the fewest system calls per proxied request), else epoll, else Java NIO. Containers whose seccomp profile
 * forbids io_uring (Docker's default does) fall back to epoll by themselves; naming a transport the machine cannot
 * run refuses to start.
 */
public final class NetworkTransport {

  public static final String AUTO = "auto";

  private NetworkTransport() {
  }

  /** @throws IllegalArgumentException for a name that is none of auto, io_uring, epoll, nio */
  public static String validName(String name) {
    String wanted = name == null || name.isBlank() ? AUTO : name.trim().toLowerCase(Locale.ROOT);
    return switch (wanted) {
      case AUTO, "io_uring", "epoll", "nio" -> wanted;
      default -> throw new IllegalArgumentException(
          "http.transport (NETWORK_TRANSPORT) must be auto, io_uring, epoll or nio, not '" + name + "'");
    };
  }

  /** @throws IllegalArgumentException for an unknown name, or a transport named outright that cannot run here */
  public static Transport choose(String name) {
    Transport chosen = switch (validName(name)) {
      case "io_uring" -> Transport.IO_URING;
      case "epoll" -> Transport.EPOLL;
      case "nio" -> Transport.NIO;
      default -> firstAvailable(Transport.IO_URING, Transport.EPOLL);
    };
    if (!chosen.available()) {
      Throwable why = chosen.unavailabilityCause();
      throw new IllegalArgumentException("network transport " + chosen.name() + " cannot run here"
          + (why == null ? "" : ": " + why.getMessage()) + "; set http.transport (NETWORK_TRANSPORT) to auto");
    }
    return chosen;
  }

  private static Transport firstAvailable(Transport... preferred) {
    for (Transport transport : preferred) {
      if (transport.available()) {
        return transport;
      }
    }
    return Transport.NIO;
  }
}
