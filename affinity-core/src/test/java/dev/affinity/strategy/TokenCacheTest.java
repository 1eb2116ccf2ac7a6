package dev.affinity.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TokenCacheTest {
  private static final long NOW = 1_000_000L;
  private static final long DEADLINE = NOW + 60_000L;

  private static JwtStrategy.Verified value(long key) {
    return new JwtStrategy.Verified(key, null, DEADLINE);
  }

  private static String token(int i) {
    return "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLSJ9.signature-" + i + "-abcdefghijklmnop";
  }

  private static void put(
      TokenCache<JwtStrategy.Verified> c, int source, String carrier, JwtStrategy.Verified v) {
    c.put(source, carrier, TokenCache.hash(carrier), v, DEADLINE, NOW);
  }

  private static JwtStrategy.Verified get(
      TokenCache<JwtStrategy.Verified> c, int source, String carrier, long now) {
    return c.get(source, carrier, TokenCache.hash(carrier), now);
  }

  @Test
  void equalCarrier_hits_evenAsAnotherStringInstance() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(100);
    JwtStrategy.Verified v = value(7);
    put(c, 0, token(1), v);
    assertThat(get(c, 0, new String(token(1).toCharArray()), NOW)).isSameAs(v);
  }

  @Test
  void aCarrierThatDiffersInOneCharacter_anywhere_misses() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(100);
    String t = token(1);
    put(c, 0, t, value(7));
    for (int i = 0; i < t.length(); i++) {
      char[] chars = t.toCharArray();
      chars[i] = chars[i] == 'x' ? 'y' : 'x';
      assertThat(get(c, 0, new String(chars), NOW)).as("changed at %d", i).isNull();
    }
    assertThat(get(c, 0, t + "x", NOW)).isNull();
    assertThat(get(c, 0, t.substring(1), NOW)).isNull();
  }

  @Test
  void aCarrierWithTheSameHash_misses() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(100);
    String tail = "x".repeat(TokenCache.HASHED);
    String a = "Bearer aaaa." + tail;
    String b = "Bearer bbbb." + tail;
    assertThat(TokenCache.hash(a)).isEqualTo(TokenCache.hash(b));
    put(c, 0, a, value(1));
    assertThat(get(c, 0, b, NOW)).isNull();
    put(c, 0, b, value(2));
    assertThat(get(c, 0, a, NOW).keyHash).isEqualTo(1);
    assertThat(get(c, 0, b, NOW).keyHash).isEqualTo(2);
  }

  @Test
  void theSameTextFromAnotherSource_misses() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(100);
    put(c, 0, token(1), value(7));
    assertThat(get(c, 1, token(1), NOW)).isNull();
    assertThat(get(c, -1, token(1), NOW)).isNull();
  }

  @Test
  void anEntryIsHonouredUpToItsDeadline_andRemovedAfter() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(100);
    put(c, 0, token(1), value(7));
    assertThat(get(c, 0, token(1), DEADLINE)).isNotNull();
    assertThat(get(c, 0, token(1), DEADLINE + 1)).isNull();
    assertThat(c.occupied()).isZero();
    assertThat(get(c, 0, token(1), NOW)).as("gone for good").isNull();
  }

  @Test
  void anExpiredEntryIsOverwrittenBeforeALiveOne() {
    TokenCache<JwtStrategy.Verified> c =
        new TokenCache<>(TokenCache.WAYS); // one window: every entry competes
    for (int i = 0; i < TokenCache.WAYS; i++) {
      c.put(0, token(i), TokenCache.hash(token(i)), value(i), i == 2 ? NOW : DEADLINE, NOW);
    }
    c.put(0, token(99), TokenCache.hash(token(99)), value(99), DEADLINE, NOW + 1);
    assertThat(get(c, 0, token(99), NOW + 1)).isNotNull();
    for (int i = 0; i < TokenCache.WAYS; i++) {
      assertThat(get(c, 0, token(i), NOW + 1) != null).as("entry %d", i).isEqualTo(i != 2);
    }
  }

  @Test
  void neverHoldsMoreEntriesThanSlots_andAnswersOnlyWithTheRightValue() {
    for (int size : new int[] {1, 2, 3, 7, 100}) {
      TokenCache<JwtStrategy.Verified> c = new TokenCache<>(size);
      List<JwtStrategy.Verified> values = new ArrayList<>();
      for (int i = 0; i < size * 10; i++) {
        values.add(value(i));
        put(c, 0, token(i), values.get(i));
        assertThat(c.occupied()).isLessThanOrEqualTo(size);
      }
      int hits = 0;
      for (int i = 0; i < size * 10; i++) {
        JwtStrategy.Verified v = get(c, 0, token(i), NOW);
        if (v != null) {
          assertThat(v).as("size %d token %d", size, i).isSameAs(values.get(i));
          hits++;
        }
      }
      assertThat(hits).as("size %d", size).isEqualTo(c.occupied()).isPositive();
    }
  }

  @Test
  void aFreshEntryIsAlwaysFoundRightAfterItsInsert_evenInAFullCache() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(50);
    for (int i = 0; i < 1000; i++) {
      put(c, 0, token(i), value(i));
      assertThat(get(c, 0, token(i), NOW)).isNotNull();
    }
  }

  @Test
  void concurrentUse_neverAnswersWithAnotherCarriersValue() throws Exception {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(64);
    int tokens = 500;
    List<JwtStrategy.Verified> values = new ArrayList<>();
    for (int i = 0; i < tokens; i++) {
      values.add(value(i));
    }
    AtomicInteger wrong = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        done.add(
            pool.submit(
                () -> {
                  for (int n = 0; n < 20_000; n++) {
                    int i = (n * 31 + seed * 7) % tokens;
                    JwtStrategy.Verified v = get(c, 0, token(i), NOW);
                    if (v == null) {
                      put(c, 0, token(i), values.get(i));
                    } else if (v != values.get(i)) {
                      wrong.incrementAndGet();
                    }
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(wrong).hasValue(0);
    assertThat(c.occupied()).isLessThanOrEqualTo(64);
  }

  @Test
  void toString_neverShowsAToken() {
    TokenCache<JwtStrategy.Verified> c = new TokenCache<>(10);
    put(c, 0, token(1), value(7));
    assertThat(c.toString()).isEqualTo("TokenCache{10 slots}");
  }

  @Test
  void sizeBelowOne_isRefused() {
    assertThatThrownBy(() -> new TokenCache<>(0)).hasMessage("size: 0 (expected: >= 1)");
  }
}
