package dev.affinity.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * {@link CloseCodeSniffer} finds the first close frame's code in a stream of data frames of every
 * length class (7-bit, 16-bit and 64-bit lengths), masked or not, however the stream is cut into
 * reads.
 */
class CloseCodeSnifferProperties {
  private static byte[] frame(int opcode, byte[] payload, boolean masked, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x80 | opcode);
    int maskBit = masked ? 0x80 : 0;
    if (payload.length < 126) {
      out.write(maskBit | payload.length);
    } else if (payload.length <= 0xffff) {
      out.write(maskBit | 126);
      out.write(payload.length >>> 8);
      out.write(payload.length & 0xff);
    } else {
      out.write(maskBit | 127);
      for (int k = 7; k >= 0; k--) {
        out.write((int) (((long) payload.length >>> (8 * k)) & 0xff));
      }
    }
    byte[] key = new byte[4];
    random.nextBytes(key);
    if (masked) {
      out.writeBytes(key);
    }
    for (int i = 0; i < payload.length; i++) {
      out.write(masked ? payload[i] ^ key[i % 4] : payload[i]);
    }
    return out.toByteArray();
  }

  private static byte[] close(int code) {
    return new byte[] {(byte) (code >>> 8), (byte) code, 'b', 'y', 'e'};
  }

  private static int sniff(byte[] stream, List<Integer> cuts) {
    CloseCodeSniffer sniffer = new CloseCodeSniffer();
    int from = 0;
    for (int cut : cuts) {
      int to = Math.min(stream.length, from + cut);
      sniffer.advance(i -> stream[i], from, to);
      from = to;
    }
    sniffer.advance(i -> stream[i], from, stream.length);
    return sniffer.code();
  }

  /**
   * 300 tries: each draws up to 8 data frames whose lengths cross both length encodings' thresholds
   * (125/126, 65,535/65,536), masking, a close code, and up to 20 read sizes, which covers a code
   * split across reads and headers split at every field. jqwik's edge cases put the length
   * thresholds and one-byte reads in the first tries; 300 bounds the random payload bytes made (up
   * to half a megabyte a try) to keep the run near a second.
   */
  @Property(tries = 300)
  void firstCloseCode_isFound_whateverTheFramesAndReads(
      @ForAll @Size(max = 8) List<@IntRange(min = 0, max = 70_000) Integer> dataLengths,
      @ForAll boolean masked,
      @ForAll @IntRange(min = 1000, max = 4999) int code,
      @ForAll @Size(max = 20) List<@IntRange(min = 1, max = 300) Integer> cuts,
      @ForAll long seed) {
    Random random = new Random(seed);
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (int length : dataLengths) {
      byte[] payload = new byte[length];
      random.nextBytes(payload);
      stream.writeBytes(frame(0x2, payload, masked, random));
    }
    stream.writeBytes(frame(0x8, close(code), masked, random));
    stream.writeBytes(frame(0x8, close(1000), masked, random)); // only the first one counts
    assertThat(sniff(stream.toByteArray(), cuts)).isEqualTo(code);
  }

  @Test
  void noCloseFrame_isNone_andAnEmptyOne_isNoStatus() {
    Random random = new Random(1);
    byte[] data = frame(0x1, new byte[] {'h', 'i'}, true, random);
    assertThat(sniff(data, List.of())).isEqualTo(CloseCodeSniffer.NONE);
    byte[] empty = frame(0x8, new byte[0], false, random);
    assertThat(sniff(empty, List.of(1))).isEqualTo(CloseCodeSniffer.NO_STATUS);
  }
}
