package dev.affinity.discovery;

import dev.affinity.backend.Backend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import org.jspecify.annotations.Nullable;

/**
 * A/AAAA or SRV records through the JDK's JNDI DNS provider, which (unlike {@link InetAddress}) can
 * ask a given server, reads SRV records, and caches nothing: every refresh sees the records as they
 * are now.
 */
final class DnsBackendSource implements BackendSource {
  private final String name;
  private final int port; // 0 = SRV
  private final @Nullable InetSocketAddress server;

  DnsBackendSource(String name, int port, @Nullable InetSocketAddress server) {
    this.name = name;
    this.port = port;
    this.server = server;
  }

  @Override
  // JdkObsolete: InitialDirContext takes a Hashtable. BanJNDI: the context factory is fixed to the
  // JDK's DNS provider, which returns record text only; it never loads or deserializes objects (the
  // risk the check is about is LDAP/RMI lookups of attacker-named URLs).
  @SuppressWarnings({"JdkObsolete", "BanJNDI"})
  public List<Backend> backends() throws IOException {
    Hashtable<String, String> env = new Hashtable<>();
    env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
    InetSocketAddress s = server;
    env.put(
        Context.PROVIDER_URL,
        s == null ? "dns:" : "dns://" + hostLiteral(s.getHostString()) + ":" + s.getPort());
    env.put("com.sun.jndi.dns.timeout.initial", "500");
    env.put("com.sun.jndi.dns.timeout.retries", "2");
    DirContext ctx = null;
    try {
      ctx = new InitialDirContext(env);
      String[] types = port == 0 ? new String[] {"SRV"} : new String[] {"A", "AAAA"};
      Attributes attrs = ctx.getAttributes(name, types);
      List<Backend> out = new ArrayList<>();
      if (port == 0) {
        srv(attrs.get("SRV"), out);
      } else {
        address(attrs.get("A"), out);
        address(attrs.get("AAAA"), out);
      }
      return out;
    } catch (NameNotFoundException e) {
      return List.of(); // the name has no records: an authoritative "no backends"
    } catch (NamingException e) {
      throw new IOException("DNS lookup of " + name + " failed: " + e.getMessage(), e);
    } finally {
      if (ctx != null) {
        try {
          ctx.close();
        } catch (NamingException e) {
          // nothing held open
        }
      }
    }
  }

  private void address(@Nullable Attribute attr, List<Backend> out)
      throws NamingException, UnknownHostException {
    if (attr == null) {
      return;
    }
    NamingEnumeration<?> values = attr.getAll();
    while (values.hasMore()) {
      String literal = String.valueOf(values.next()).trim();
      // Canonical text form, so the id does not depend on how the server wrote the address.
      String ip = InetAddress.getByName(literal).getHostAddress();
      String host = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
      out.add(Backend.of(host + ":" + port, ip, port));
    }
  }

  private static void srv(@Nullable Attribute attr, List<Backend> out) throws NamingException {
    if (attr == null) {
      return;
    }
    NamingEnumeration<?> values = attr.getAll();
    while (values.hasMore()) {
      // priority weight port target
      String[] f = String.valueOf(values.next()).trim().split("\\s+", -1);
      if (f.length != 4) {
        continue;
      }
      int weight = Math.max(1, Integer.parseInt(f[1]));
      int p = Integer.parseInt(f[2]);
      String target = f[3].endsWith(".") ? f[3].substring(0, f[3].length() - 1) : f[3];
      target = target.toLowerCase(Locale.ROOT);
      if (p <= 0 || target.isEmpty()) {
        continue;
      }
      out.add(Backend.of(target + ":" + p, target, p).withWeight(weight));
    }
  }

  private static String hostLiteral(String host) {
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  @Override
  public String toString() {
    return port == 0
        ? "BackendSource.dnsSrv(\"" + name + "\")"
        : "BackendSource.dns(\"" + name + "\", " + port + ")";
  }
}
