import { randomBytes } from 'node:crypto';

/**
 * The simulator's only source of randomness for event content. Seeded: the same seed gives the
 * same events (given the same clock), which makes failing tests reproducible. Unseeded: seeded
 * from the OS, so two simulators never share uuids.
 *
 * xoshiro128** (128-bit state, period 2^128 - 1): fast, and enough state that uuids drawn from it
 * do not collide the way they would with a 32-bit generator.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed?: number) {
    let s = seed === undefined ? randomBytes(4).readUInt32LE(0) : seed >>> 0;
    // splitmix32 spreads a small seed over the whole state (xoshiro must not start all-zero).
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if (seed === undefined) {
      // Unseeded: use the full 128 bits of OS entropy, not just the 32 that seeded splitmix.
      const extra = randomBytes(16);
      this.a ^= extra.readUInt32LE(0);
      this.b ^= extra.readUInt32LE(4);
      this.c ^= extra.readUInt32LE(8);
      this.d ^= extra.readUInt32LE(12);
    }
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** In [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** An RFC 4122 version 4 uuid. */
  uuid(): string {
    const w0 = this.uint32();
    const w1 = ((this.uint32() & 0xffff0fff) | 0x00004000) >>> 0; // version 4
    const w2 = ((this.uint32() & 0x3fffffff) | 0x80000000) >>> 0; // variant 10
    const w3 = this.uint32();
    const h1 = hex8(w1);
    const h2 = hex8(w2);
    return `${hex8(w0)}-${h1.slice(0, 4)}-${h1.slice(4)}-${h2.slice(0, 4)}-${h2.slice(4)}${hex8(w3)}`;
  }

  /** `length` characters of [A-Za-z0-9], the alphabet of Okta object ids. */
  base62(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += BASE62[this.uint32() % 62];
    return out;
  }

  /** `length` lower-case hex characters. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += hex8(this.uint32());
    return out.length === length ? out : out.slice(0, length);
  }
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Hex of each byte, by table: Number#toString(16) is several times slower on the hot path. */
const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex8(n: number): string {
  return (HEX_BYTES[(n >>> 24) & 0xff] as string) + (HEX_BYTES[(n >>> 16) & 0xff] as string) + (HEX_BYTES[(n >>> 8) & 0xff] as string) + (HEX_BYTES[n & 0xff] as string);
}
