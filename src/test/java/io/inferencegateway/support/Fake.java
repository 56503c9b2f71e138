package io.inferencegateway.support;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A stand-in for a Vert.x interface in unit tests that need no server (an HTTP request, a response): only the methods
 * a test names answer; fluent methods return the stand-in, others return null, false or 0. Every call is recorded.
 */
public final class Fake<T> {

  private final Map<String, Function<Object[], Object>> answers = new HashMap<>();
  private final Map<String, Integer> calls = new HashMap<>();
  private final T proxy;

  private Fake(Class<T> type) {
    InvocationHandler handler = this::invoke;
    this.proxy = type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }

  public static <T> Fake<T> of(Class<T> type) {
    return new Fake<>(type);
  }

  /** Answers calls of {@code method} (any overload) with {@code answer} applied to the arguments. */
  public Fake<T> on(String method, Function<Object[], Object> answer) {
    answers.put(method, answer);
    return this;
  }

  /** Answers calls of {@code method} with a fixed value. */
  public Fake<T> returns(String method, Object value) {
    return on(method, args -> value);
  }

  public T get() {
    return proxy;
  }

  /** How many times {@code method} was called. */
  public int calls(String method) {
    return calls.getOrDefault(method, 0);
  }

  private Object invoke(Object self, Method method, Object[] args) {
    String name = method.getName();
    if (method.getDeclaringClass() == Object.class) {
      return switch (name) {
        case "hashCode" -> System.identityHashCode(self);
        case "equals" -> self == args[0];
        default -> "Fake(" + method.getDeclaringClass().getSimpleName() + ")";
      };
    }
    calls.merge(name, 1, Integer::sum);
    Function<Object[], Object> answer = answers.get(name);
    if (answer != null) {
      return answer.apply(args == null ? new Object[0] : args);
    }
    Class<?> returns = method.getReturnType();
    if (returns.isInstance(self)) {
      return self;
    }
    if (returns == boolean.class) {
      return false;
    }
    if (returns.isPrimitive() && returns != void.class) {
      return returns == long.class ? 0L : returns == double.class ? 0d : returns == float.class ? 0f : 0;
    }
    return null;
  }
}
