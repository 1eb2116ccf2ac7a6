package dev.affinity.proxy;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * SIGHUP handling through {@code sun.misc.Signal} (module {@code jdk.unsupported}), reached by
 * reflection so that the build stays free of internal-API warnings. On a JVM without it (or with
 * {@code -Xrs}), reload is still there through the admin API.
 */
final class Signals {
  private static final System.Logger LOG = System.getLogger(Signals.class.getName());

  private Signals() {}

  /**
   * Runs {@code action} on a JVM thread each time the process gets SIGHUP.
   *
   * @return whether the handler was installed
   */
  static boolean onHangup(Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object hup = signal.getConstructor(String.class).newInstance("HUP");
      InvocationHandler h =
          (Object proxy, Method m, Object[] args) -> {
            if (m.getName().equals("handle")) {
              action.run();
              return null;
            }
            if (m.getName().equals("toString")) {
              return "SIGHUP handler";
            }
            if (m.getName().equals("hashCode")) {
              return System.identityHashCode(proxy);
            }
            if (m.getName().equals("equals")) {
              return proxy == args[0];
            }
            return null;
          };
      Object instance =
          Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler}, h);
      signal.getMethod("handle", signal, handler).invoke(null, hup, instance);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "SIGHUP cannot be handled on this JVM ({0}); reload through the admin API instead",
          e.toString());
      return false;
    }
  }
}
