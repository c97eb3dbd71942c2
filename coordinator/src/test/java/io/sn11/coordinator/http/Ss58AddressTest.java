package io.sn11.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** SS58 against the well-known development accounts of Substrate (their public keys and addresses are published). */
class Ss58AddressTest {
  private static final String ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
  private static final byte[] ALICE_KEY = HexFormat.of().parseHex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
  private static final String BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
  private static final byte[] BOB_KEY = HexFormat.of().parseHex("8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48");

  @Test
  void theDevelopmentAccountsEncodeToTheirPublishedAddresses() {
    assertEquals(ALICE, Ss58Address.encode(42, ALICE_KEY));
    assertEquals(BOB, Ss58Address.encode(42, BOB_KEY));
    assertTrue(Ss58Address.isValid(ALICE));
    assertTrue(Ss58Address.isValid(BOB));
  }

  @Test
  void base58RoundTripsKeepLeadingZeroBytes() {
    byte[] raw = {0, 0, 1, 2, (byte) 0xFF};
    assertEquals("11", Ss58Address.encodeBase58(raw).substring(0, 2));
    assertArrayEquals(raw, Ss58Address.decodeBase58(Ss58Address.encodeBase58(raw)));
  }

  @Test
  void aChangedCharacterBreaksTheChecksum() {
    char[] chars = ALICE.toCharArray();
    chars[10] = chars[10] == 'a' ? 'b' : 'a';
    assertFalse(Ss58Address.isValid(new String(chars)));
  }

  @Test
  void otherShapesAreRefused() {
    assertFalse(Ss58Address.isValid(""));
    assertFalse(Ss58Address.isValid("0OIl" + "1".repeat(44)), "0, O, I and l are not base58");
    assertFalse(Ss58Address.isValid("5short"));
    assertFalse(Ss58Address.isValid(ALICE + "1"), "one byte too many");
    assertFalse(Ss58Address.isValid("1".repeat(48)), "all zero: prefix 0 with a zero key and a wrong checksum");
  }
}
