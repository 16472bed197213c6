// SipHash-2-4 (Aumasson and Bernstein, https://www.aont.org/siphash.pdf): a keyed pseudorandom
// function made for short inputs. The log's stand-in for a user-identifier: as unguessable as an
// HMAC without the key, and computed in plain JavaScript without a crypto object per request.
//
// Each 64-bit lane is two 32-bit halves in local variables (…h high, …l low): no allocation per
// call. Additions carry by hand; `>>> 0` keeps halves unsigned.

/** A SipHash-2-4 with a fixed 16-byte key; returns the 64-bit result as 16 hex digits. */
export function sipHasher(key: Uint8Array): (message: Uint8Array, length?: number) => string {
  if (key.length !== 16) throw new RangeError('SipHash takes a 16-byte key');
  const k0l = readLow(key, 0);
  const k0h = readLow(key, 4);
  const k1l = readLow(key, 8);
  const k1h = readLow(key, 12);

  // biome-ignore lint/complexity/noExcessiveCognitiveComplexity: SipHash-2-4's rounds, written out as the reference does
  return (message, length = message.length) => {
    // "somepseudorandomlygeneratedbytes", xored with the key.
    let v0h = (0x736f6d65 ^ k0h) >>> 0;
    let v0l = (0x70736575 ^ k0l) >>> 0;
    let v1h = (0x646f7261 ^ k1h) >>> 0;
    let v1l = (0x6e646f6d ^ k1l) >>> 0;
    let v2h = (0x6c796765 ^ k0h) >>> 0;
    let v2l = (0x6e657261 ^ k0l) >>> 0;
    let v3h = (0x74656462 ^ k1h) >>> 0;
    let v3l = (0x79746573 ^ k1l) >>> 0;
    let t: number;

    const whole = length - (length % 8);
    // Each 8-byte word: xor into v3, 2 rounds, xor into v0. Then 0xff into v2 and 4 rounds.
    for (let at = 0; ; at += 8) {
      const final = at > whole;
      let mh = 0;
      let ml = 0;
      if (at < whole) {
        ml = readLow(message, at);
        mh = readLow(message, at + 4);
      } else if (!final) {
        // The last 0 to 7 bytes, little-endian, with the length's low byte on top.
        mh = (length & 0xff) << 24;
        for (let i = length - 1; i >= whole; i--) {
          const byte = message[i] as number;
          if (i - whole >= 4) mh |= byte << ((i - whole - 4) * 8);
          else ml |= byte << ((i - whole) * 8);
        }
        mh >>>= 0;
        ml >>>= 0;
      }
      if (final) v2l = (v2l ^ 0xff) >>> 0;
      else {
        v3h = (v3h ^ mh) >>> 0;
        v3l = (v3l ^ ml) >>> 0;
      }
      for (let r = final ? 4 : 2; r > 0; r--) {
        // One SipRound.
        t = v0l + v1l;
        v0h = (v0h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0;
        v0l = t >>> 0;
        t = v1h;
        v1h = ((v1h << 13) | (v1l >>> 19)) >>> 0;
        v1l = ((v1l << 13) | (t >>> 19)) >>> 0;
        v1h = (v1h ^ v0h) >>> 0;
        v1l = (v1l ^ v0l) >>> 0;
        t = v0h;
        v0h = v0l;
        v0l = t;
        t = v2l + v3l;
        v2h = (v2h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0;
        v2l = t >>> 0;
        t = v3h;
        v3h = ((v3h << 16) | (v3l >>> 16)) >>> 0;
        v3l = ((v3l << 16) | (t >>> 16)) >>> 0;
        v3h = (v3h ^ v2h) >>> 0;
        v3l = (v3l ^ v2l) >>> 0;
        t = v0l + v3l;
        v0h = (v0h + v3h + (t > 0xffffffff ? 1 : 0)) >>> 0;
        v0l = t >>> 0;
        t = v3h;
        v3h = ((v3h << 21) | (v3l >>> 11)) >>> 0;
        v3l = ((v3l << 21) | (t >>> 11)) >>> 0;
        v3h = (v3h ^ v0h) >>> 0;
        v3l = (v3l ^ v0l) >>> 0;
        t = v2l + v1l;
        v2h = (v2h + v1h + (t > 0xffffffff ? 1 : 0)) >>> 0;
        v2l = t >>> 0;
        t = v1h;
        v1h = ((v1h << 17) | (v1l >>> 15)) >>> 0;
        v1l = ((v1l << 17) | (t >>> 15)) >>> 0;
        v1h = (v1h ^ v2h) >>> 0;
        v1l = (v1l ^ v2l) >>> 0;
        t = v2h;
        v2h = v2l;
        v2l = t;
      }
      if (final) break;
      v0h = (v0h ^ mh) >>> 0;
      v0l = (v0l ^ ml) >>> 0;
    }
    const high = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
    const low = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
    return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
  };
}

/** Four bytes, little-endian, as an unsigned 32-bit number. */
function readLow(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}
