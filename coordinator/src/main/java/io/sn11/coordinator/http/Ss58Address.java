package io.sn11.coordinator.http;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * SS58 addresses of 32-byte account keys, as Substrate chains (and Bittensor hotkeys) write them:
 * base58 of {@code prefix || key || checksum}, where the checksum is the first two bytes of
 * BLAKE2b-512 over {@code "SS58PRE" || prefix || key}. Prefixes 0-63 take one byte, 64-16383 two.
 */
public final class Ss58Address {
  private static final String ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  private static final BigInteger BASE = BigInteger.valueOf(58);
  private static final byte[] CONTEXT = "SS58PRE".getBytes(StandardCharsets.US_ASCII);
  private static final int KEY_BYTES = 32;
  private static final int CHECKSUM_BYTES = 2;

  private Ss58Address() {}

  /** True when {@code address} is base58 with a known prefix layout, a 32-byte key and the right checksum. */
  public static boolean isValid(String address) {
    byte[] raw = decodeBase58(address);
    if (raw == null) return false;
    int prefixBytes = raw.length - KEY_BYTES - CHECKSUM_BYTES;
    if (prefixBytes == 1) {
      if ((raw[0] & 0xFF) > 63) return false;
    } else if (prefixBytes == 2) {
      if ((raw[0] & 0xC0) != 0x40) return false; // two-byte prefixes start with the bits 01
    } else {
      return false;
    }
    byte[] checksum = checksum(Arrays.copyOf(raw, raw.length - CHECKSUM_BYTES));
    return raw[raw.length - 2] == checksum[0] && raw[raw.length - 1] == checksum[1];
  }

  /** The address of {@code key} under a one-byte {@code prefix} (0-63; 42 is the generic Substrate one). */
  public static String encode(int prefix, byte[] key) {
    if (prefix < 0 || prefix > 63) throw new IllegalArgumentException("one-byte SS58 prefixes are 0-63, was " + prefix);
    if (key.length != KEY_BYTES) throw new IllegalArgumentException("an account key has 32 bytes, was " + key.length);
    byte[] body = new byte[1 + KEY_BYTES];
    body[0] = (byte) prefix;
    System.arraycopy(key, 0, body, 1, KEY_BYTES);
    byte[] checksum = checksum(body);
    byte[] raw = Arrays.copyOf(body, body.length + CHECKSUM_BYTES);
    raw[body.length] = checksum[0];
    raw[body.length + 1] = checksum[1];
    return encodeBase58(raw);
  }

  private static byte[] checksum(byte[] prefixAndKey) {
    Blake2bDigest blake = new Blake2bDigest(512);
    blake.update(CONTEXT, 0, CONTEXT.length);
    blake.update(prefixAndKey, 0, prefixAndKey.length);
    byte[] hash = new byte[64];
    blake.doFinal(hash, 0);
    return hash;
  }

  /** The bytes of a base58 string (leading '1's are zero bytes), or null when a character is not base58. */
  static byte[] decodeBase58(String text) {
    if (text == null || text.isEmpty() || text.length() > 64) return null;
    BigInteger value = BigInteger.ZERO;
    int leadingZeros = 0;
    boolean leading = true;
    for (char c : text.toCharArray()) {
      int digit = ALPHABET.indexOf(c);
      if (digit < 0) return null;
      if (leading && digit == 0) leadingZeros++;
      else leading = false;
      value = value.multiply(BASE).add(BigInteger.valueOf(digit));
    }
    byte[] magnitude = value.signum() == 0 ? new byte[0] : value.toByteArray();
    int skip = magnitude.length > 0 && magnitude[0] == 0 ? 1 : 0; // BigInteger's sign byte
    byte[] raw = new byte[leadingZeros + magnitude.length - skip];
    System.arraycopy(magnitude, skip, raw, leadingZeros, magnitude.length - skip);
    return raw;
  }

  static String encodeBase58(byte[] raw) {
    StringBuilder text = new StringBuilder();
    BigInteger value = new BigInteger(1, raw);
    while (value.signum() > 0) {
      BigInteger[] divided = value.divideAndRemainder(BASE);
      text.append(ALPHABET.charAt(divided[1].intValue()));
      value = divided[0];
    }
    for (int i = 0; i < raw.length && raw[i] == 0; i++) text.append(ALPHABET.charAt(0));
    return text.reverse().toString();
  }
}
