package dev.affinity.strategy;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.affinity.Outcome;
import dev.affinity.RoutingRequest;
import dev.affinity.SetCookie;
import dev.affinity.backend.BackendState;
import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Signed cookie affinity; see {@link AffinityStrategy#cookie(CookieAffinity)}.
 *
 * <p>The cookie value is {@value #ENCODED_LENGTH} characters of unpadded Base64url over {@value
 * #LENGTH} bytes:
 *
 * <pre>
 * offset  size  field
 *      0     1  format version (1)
 *      1     1  key id
 *      2     1  flags: bit 0 = spill assignment (placed past its key's owner under bounded load)
 *      3     8  issued at, seconds since the epoch, big-endian
 *     11     8  backend tag: HMAC-SHA256(tag key, backend id)[0..8]
 *     19    32  HMAC-SHA256(mac key, bytes 0..19)
 * </pre>
 *
 * The mac key and the tag key are derived from the configured secret as HMAC-SHA256(secret, label),
 * so that the tag of a backend cannot serve as a MAC. {@value #LENGTH} is a multiple of 3, so every
 * value has exactly one encoding and no spare bits: any change to the text changes the bytes.
 */
final class CookieStrategy extends SnapshotStrategy {
  static final int VERSION = 1;
  static final int LENGTH = 51;
  static final int ENCODED_LENGTH = 68;
  static final int FLAG_SPILL = 1;
  private static final int SIGNED = 19;
  private static final int TAG_OFFSET = 11;
  private static final int MAC_LENGTH = 32;
  private static final String HMAC = "HmacSHA256";
  private static final byte[] MAC_LABEL = "affinity cookie mac v1".getBytes(UTF_8);
  private static final byte[] TAG_LABEL = "affinity cookie backend tag v1".getBytes(UTF_8);

  /** How far in the future an issue time may be, for clocks of proxy instances that disagree. */
  static final long ALLOWED_SKEW_SECONDS = 60;

  static final String NAME = "cookie";

  private static final Selection ABSENT = Selection.abstain("no affinity cookie");
  private static final Selection MALFORMED =
      Selection.abstain("invalid affinity cookie (malformed)");
  private static final Selection BAD_VERSION =
      Selection.abstain("invalid affinity cookie (unsupported format version)");
  private static final Selection UNKNOWN_KEY =
      Selection.abstain("invalid affinity cookie (unknown key id)");
  private static final Selection BAD_SIGNATURE =
      Selection.abstain("invalid affinity cookie (bad signature)");
  private static final Selection EXPIRED =
      Selection.abstain("invalid affinity cookie (older than its max age)");
  private static final Selection FROM_FUTURE =
      Selection.abstain("invalid affinity cookie (issued in the future)");
  private static final Selection GONE =
      Selection.affinityLost("affinity cookie names a backend that is no longer a member");
  private static final String HIT = "valid affinity cookie";
  private static final String HIT_SPILL =
      "valid affinity cookie (a spill assignment made under bounded load)";
  private static final String HIT_DRAINING =
      "valid affinity cookie for a DRAINING backend, before its drain deadline";

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  private final CookieAffinity config;
  private final long maxAgeSeconds;
  private final long refreshAfterSeconds;
  private final int signingId;

  /** Indexed by key id; null where no key has that id. */
  private final Key[] keys = new Key[256];

  /** Per-thread buffers and MACs for verifying and signing; nothing is handed between calls. */
  private final ThreadLocal<Scratch> scratch;

  /** Cookie values whose signature verified, with their fields; null when caching is off. */
  private final @Nullable TokenCache<Verified> cache;

  CookieStrategy(CookieAffinity config) {
    this.config = config;
    this.maxAgeSeconds = config.maxAge().toSeconds();
    this.refreshAfterSeconds = maxAgeSeconds / 2;
    this.signingId = config.keys().signing().id();
    for (CookieKey k : config.keys().accepted()) {
      keys[k.id()] = new Key(k);
    }
    this.scratch = ThreadLocal.withInitial(Scratch::new);
    this.cache = config.cacheSize() == 0 ? null : new TokenCache<>(config.cacheSize());
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Builds the snapshot's tag tables, or reuses the previous ones when the member ids are the same
   * (a state or weight change re-tags nothing).
   */
  @Override
  CookieSelector build(Membership membership, Selectors.@Nullable Snapshot previous) {
    Tags t =
        previous instanceof CookieSelector
            ? ((CookieSelector) previous).tags.reuseFor(membership)
            : null;
    return new CookieSelector(
        t != null ? t : new Tags(membership, keys),
        GroupClock.of(config.clock(), membership, "CookieAffinity.clock"));
  }

  /** One snapshot's cookie verification and issuing, on the group's clock. */
  final class CookieSelector implements Selectors.Snapshot {
    final Tags tags;
    private final InstantSource clock;

    /**
     * The selections a valid cookie can end in, built with the snapshot so that a returning client
     * allocates none: for member index i, [3i] a plain hit, [3i + 1] a spill assignment's, [3i + 2]
     * a DRAINING backend's.
     */
    private final Selection[] hits;

    CookieSelector(Tags tags, InstantSource clock) {
      this.tags = tags;
      this.clock = clock;
      List<Member> members = tags.membership.members();
      this.hits = new Selection[members.size() * 3];
      for (int i = 0; i < members.size(); i++) {
        Member m = members.get(i);
        hits[3 * i] = Selection.chosen(m, Outcome.AFFINITY_HIT, HIT);
        hits[3 * i + 1] = Selection.chosen(m, Outcome.AFFINITY_HIT, HIT_SPILL);
        hits[3 * i + 2] = Selection.chosen(m, Outcome.AFFINITY_HIT, HIT_DRAINING);
      }
    }

    @Override
    public Membership membership() {
      return tags.membership;
    }

    @Override
    public Selection select(RoutingRequest request) {
      String value = presented(request);
      if (value == null) {
        return ABSENT;
      }
      Scratch s = scratch.get();
      long now = clock.millis();
      long nowSeconds = Math.floorDiv(now, 1000);
      Selection invalid = verifyCached(value, s, now, nowSeconds);
      if (invalid != null) {
        return invalid;
      }
      Member m = tags.find(s.keyId, s.tag);
      if (m == null) {
        return GONE;
      }
      String refusal = Returning.refusal(m, now);
      if (refusal == null) {
        Selection hit =
            hits[
                3 * m.index()
                    + (m.state() == BackendState.DRAINING
                        ? 2
                        : (s.flags & FLAG_SPILL) != 0 ? 1 : 0)];
        // Past half its max age, a valid cookie is refreshed: same flags, new issue time.
        return nowSeconds - s.issuedAt < refreshAfterSeconds
            ? hit
            : hit.withCookie(issue(request, m, s.flags, nowSeconds));
      }
      String why = "affinity cookie names " + m.id() + ", " + refusal;
      if (config.strict() && refusal.equals(Returning.DOWN)) {
        return Selection.noBackend(why + " (strict mode)");
      }
      return Selection.affinityLost(why);
    }

    /**
     * Issues a cookie naming {@code member} when another strategy chose it (first assignment,
     * failover, or a cookie that was invalid) or a connect failover moved the client there.
     */
    @Override
    public SetCookie cookieFor(RoutingRequest request, Member member, Outcome outcome) {
      int flags = outcome == Outcome.SPILL_OVER ? FLAG_SPILL : 0;
      return issue(request, member, flags, Math.floorDiv(clock.millis(), 1000));
    }

    private SetCookie issue(RoutingRequest request, Member m, int flags, long nowSeconds) {
      return config.setCookie(encode(flags, nowSeconds, tags.tagOf(signingId, m)), request);
    }

    @Override
    public String toString() {
      return "cookie selector at version " + tags.membership.version();
    }
  }

  private @Nullable String presented(RoutingRequest request) {
    String v = request.cookie(config.name());
    if (v == null || v.isEmpty()) {
      String header = config.header();
      v = header == null ? null : request.header(header);
      if (v == null || v.isEmpty()) {
        String param = config.queryParameter();
        v = param == null ? null : request.queryParameter(param);
      }
    }
    return v == null || v.isEmpty() ? null : v;
  }

  /**
   * Checks {@code value} through the cache of verified values: a value seen verified before and not
   * yet past its max age skips the HMAC. Null when valid, with its fields left in {@code s}.
   */
  private @Nullable Selection verifyCached(
      String value, Scratch s, long nowMillis, long nowSeconds) {
    TokenCache<Verified> c = cache;
    if (c == null) {
      return verify(value, s, nowSeconds);
    }
    int hash = TokenCache.hash(value);
    Verified v = c.get(0, value, hash, nowMillis);
    if (v != null) {
      s.keyId = v.keyId;
      s.flags = v.flags;
      s.issuedAt = v.issuedAt;
      s.tag = v.tag;
      return null;
    }
    Selection invalid = verify(value, s, nowSeconds);
    if (invalid == null) {
      // Valid while nowSeconds - issuedAt <= maxAge: until the last millisecond of that second.
      long deadline = (s.issuedAt + maxAgeSeconds + 1) * 1000 - 1;
      c.put(0, value, hash, new Verified(s.keyId, s.flags, s.issuedAt, s.tag), deadline, nowMillis);
    }
    return invalid;
  }

  /** What a verified cookie value says; immutable, so a cache entry can be shared by threads. */
  static final class Verified {
    final int keyId;
    final int flags;
    final long issuedAt;
    final long tag;

    Verified(int keyId, int flags, long issuedAt, long tag) {
      this.keyId = keyId;
      this.flags = flags;
      this.issuedAt = issuedAt;
      this.tag = tag;
    }
  }

  /** Checks {@code value}; null when valid, with its fields left in {@code s}. */
  private @Nullable Selection verify(String value, Scratch s, long nowSeconds) {
    if (value.length() != ENCODED_LENGTH) {
      return MALFORMED;
    }
    byte[] text = s.text;
    for (int i = 0; i < ENCODED_LENGTH; i++) {
      char c = value.charAt(i);
      if (c >= 0x80) {
        return MALFORMED;
      }
      text[i] = (byte) c;
    }
    byte[] raw = s.raw;
    try {
      if (DECODER.decode(text, raw) != LENGTH) {
        return MALFORMED;
      }
    } catch (IllegalArgumentException e) {
      return MALFORMED;
    }
    if (raw[0] != VERSION) {
      return BAD_VERSION;
    }
    int keyId = raw[1] & 0xff;
    Key key = keys[keyId];
    if (key == null) {
      return UNKNOWN_KEY;
    }
    Mac mac = s.mac(key);
    mac.update(raw, 0, SIGNED);
    try {
      mac.doFinal(s.expected, 0);
    } catch (ShortBufferException e) {
      throw new IllegalStateException(e);
    }
    System.arraycopy(raw, SIGNED, s.given, 0, MAC_LENGTH);
    if (!MessageDigest.isEqual(s.expected, s.given)) {
      return BAD_SIGNATURE;
    }
    int flags = raw[2] & 0xff;
    if ((flags & ~FLAG_SPILL) != 0) {
      return BAD_VERSION;
    }
    long issuedAt = readLong(raw, 3);
    if (issuedAt > nowSeconds + ALLOWED_SKEW_SECONDS) {
      return FROM_FUTURE;
    }
    if (nowSeconds - issuedAt > maxAgeSeconds) {
      return EXPIRED;
    }
    s.keyId = keyId;
    s.flags = flags;
    s.issuedAt = issuedAt;
    s.tag = readLong(raw, TAG_OFFSET);
    return null;
  }

  String encode(int flags, long issuedAtSeconds, long tag) {
    byte[] raw = new byte[LENGTH];
    raw[0] = VERSION;
    raw[1] = (byte) signingId;
    raw[2] = (byte) flags;
    writeLong(raw, 3, issuedAtSeconds);
    writeLong(raw, TAG_OFFSET, tag);
    Mac mac = scratch.get().mac(keys[signingId]);
    mac.update(raw, 0, SIGNED);
    try {
      mac.doFinal(raw, SIGNED);
    } catch (ShortBufferException e) {
      throw new IllegalStateException(e);
    }
    return ENCODER.encodeToString(raw);
  }

  private static long readLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xff);
    }
    return v;
  }

  private static void writeLong(byte[] b, int off, long v) {
    for (int i = 7; i >= 0; i--) {
      b[off + i] = (byte) v;
      v >>>= 8;
    }
  }

  static Mac newMac(byte[] key) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private static byte[] derive(byte[] secret, byte[] label) {
    return newMac(secret).doFinal(label);
  }

  @Override
  public String toString() {
    return "AffinityStrategy.cookie(" + config + ")";
  }

  /** One accepted key with its derived keys. */
  static final class Key {
    final int id;
    final byte[] macKey;
    final byte[] tagKey;

    Key(CookieKey key) {
      byte[] secret = key.secret();
      this.id = key.id();
      this.macKey = derive(secret, MAC_LABEL);
      this.tagKey = derive(secret, TAG_LABEL);
      Arrays.fill(secret, (byte) 0);
    }

    static long tag(Mac tagMac, String backendId) {
      return readLong(tagMac.doFinal(backendId.getBytes(UTF_8)), 0);
    }
  }

  /**
   * Per-thread buffers and initialised MACs, so that verifying a cookie allocates nothing on the
   * event-loop and pool threads adapters run on. (Under one virtual thread per request this costs a
   * {@code Mac} set-up per request instead.)
   */
  private static final class Scratch {
    final byte[] text = new byte[ENCODED_LENGTH];
    final byte[] raw = new byte[LENGTH];
    final byte[] expected = new byte[MAC_LENGTH];
    final byte[] given = new byte[MAC_LENGTH];
    final Mac[] macs = new Mac[256];
    int keyId;
    int flags;
    long issuedAt;
    long tag;

    Mac mac(Key key) {
      Mac m = macs[key.id];
      if (m == null) {
        m = newMac(key.macKey);
        macs[key.id] = m;
      }
      return m;
    }
  }

  /** For one snapshot: the tag of every member under every accepted key, sorted for lookup. */
  static final class Tags {
    final Membership membership;

    /** Indexed by key id: sorted tags, and the member index of each. */
    final long[][] sorted;

    final int[][] owners;

    /** Indexed by key id, then member index. */
    final long[][] byIndex;

    private Tags(Membership membership, long[][] sorted, int[][] owners, long[][] byIndex) {
      this.membership = membership;
      this.sorted = sorted;
      this.owners = owners;
      this.byIndex = byIndex;
    }

    /** These tables for {@code next}, or null if its member ids differ from this snapshot's. */
    @Nullable Tags reuseFor(Membership next) {
      List<Member> a = membership.members();
      List<Member> b = next.members();
      if (a.size() != b.size()) {
        return null;
      }
      for (int i = 0; i < a.size(); i++) {
        if (!a.get(i).id().equals(b.get(i).id())) {
          return null;
        }
      }
      return new Tags(next, sorted, owners, byIndex);
    }

    Tags(Membership membership, Key[] keys) {
      this.membership = membership;
      this.sorted = new long[256][];
      this.owners = new int[256][];
      this.byIndex = new long[256][];
      List<Member> members = membership.members();
      int n = members.size();
      for (Key k : keys) {
        if (k == null) {
          continue;
        }
        Mac tagMac = newMac(k.tagKey);
        long[] tags = new long[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
          tags[i] = Key.tag(tagMac, members.get(i).id());
          order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(tags[a], tags[b]));
        // A tag shared by two ids (odds about n^2 / 2^65) names neither: drop both.
        long[] st = new long[n];
        int[] sm = new int[n];
        int out = 0;
        for (int i = 0; i < n; i++) {
          long t = tags[order[i]];
          boolean dup =
              (i > 0 && tags[order[i - 1]] == t) || (i + 1 < n && tags[order[i + 1]] == t);
          if (!dup) {
            st[out] = t;
            sm[out] = order[i];
            out++;
          }
        }
        sorted[k.id] = Arrays.copyOf(st, out);
        owners[k.id] = Arrays.copyOf(sm, out);
        byIndex[k.id] = tags;
      }
    }

    @Nullable Member find(int keyId, long tag) {
      int i = Arrays.binarySearch(sorted[keyId], tag);
      return i < 0 ? null : membership.members().get(owners[keyId][i]);
    }

    long tagOf(int keyId, Member m) {
      return byIndex[keyId][m.index()];
    }
  }
}
