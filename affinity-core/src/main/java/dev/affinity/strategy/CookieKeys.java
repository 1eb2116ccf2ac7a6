package dev.affinity.strategy;

import static dev.affinity.internal.Checks.check;
import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import dev.affinity.AffinityConfigurationException;
import java.util.List;

/**
 * The keys of {@linkplain CookieAffinity affinity cookies}: one that signs new cookies, and any
 * number of older ones that are still accepted while their cookies age out.
 *
 * <pre>{@code
 * // Rotation in three steps, one deploy each:
 * CookieKeys.of(k1);           // 1. sign and verify with k1
 * CookieKeys.of(k2, k1);       // 2. sign with k2; cookies signed with k1 still route
 * CookieKeys.of(k2);           // 3. after the cookie max age has passed: drop k1
 * }</pre>
 *
 * <p>Cookies signed with a key that is not listed are invalid: their clients are placed afresh and
 * given a new cookie. Every proxy instance must hold the same keys; during step 2, deploy the new
 * verifying set everywhere before any instance starts signing with the new key if clients may move
 * between instances.
 */
public final class CookieKeys {
  private final CookieKey signing;
  private final ImmutableList<CookieKey> all;

  private CookieKeys(CookieKey signing, ImmutableList<CookieKey> all) {
    this.signing = signing;
    this.all = all;
  }

  /**
   * Signs with {@code signing} and accepts cookies signed by it or by any of {@code alsoAccepted}.
   *
   * @throws AffinityConfigurationException if two keys share an id
   */
  public static CookieKeys of(CookieKey signing, CookieKey... alsoAccepted) {
    requireNonNull(signing, "signing");
    requireNonNull(alsoAccepted, "alsoAccepted");
    ImmutableList.Builder<CookieKey> all = ImmutableList.builder();
    all.add(signing);
    boolean[] seen = new boolean[256];
    seen[signing.id()] = true;
    for (CookieKey k : alsoAccepted) {
      requireNonNull(k, "alsoAccepted[]");
      check(!seen[k.id()], "alsoAccepted", k, "key ids used once");
      seen[k.id()] = true;
      all.add(k);
    }
    return new CookieKeys(signing, all.build());
  }

  /** The key that signs new cookies. */
  public CookieKey signing() {
    return signing;
  }

  /** Every accepted key, the signing key first. */
  public List<CookieKey> accepted() {
    return all;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CookieKeys && ((CookieKeys) o).all.equals(all);
  }

  @Override
  public int hashCode() {
    return all.hashCode();
  }

  /** The ids and lengths of the keys; never the secrets. */
  @Override
  public String toString() {
    return "CookieKeys{signing=" + signing + ", accepted=" + all + "}";
  }
}
