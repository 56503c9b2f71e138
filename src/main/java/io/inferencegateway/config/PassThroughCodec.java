package io.inferencegateway.config;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * A codec for local-only messages: {@link #transform} hands over the same (immutable) object, so a local send
 * costs no serialisation. It refuses to go over the wire, which would be a bug (these records are never clustered).
 */
public final class PassThroughCodec<T> implements MessageCodec<T, T> {

  private final String name;

  private PassThroughCodec(Class<T> type) {
    this.name = "passthrough-" + type.getName();
  }

  /** Registers the codec as the default for {@code type}; calling it twice on one event bus is harmless. */
  public static <T> void register(EventBus bus, Class<T> type) {
    try {
      bus.registerDefaultCodec(type, new PassThroughCodec<>(type));
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this Vertx registered it first
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new IllegalStateException("local-only message type " + name);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new IllegalStateException("local-only message type " + name);
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
