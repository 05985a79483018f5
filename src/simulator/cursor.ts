import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `after` cursor of the simulator's `next` links: opaque to clients, as Okta's is
 * (okta-system-log-api.md section 1.4; Okta's own examples show `1627500044869_1` and
 * uuid-like values, and say the format may change without notice).
 *
 * Format chosen here: `<base64url(position)>.<base64url(HMAC-SHA256(secret, position))[0..22]>`,
 * with a secret per simulator. A cursor that was altered, or that another simulator issued,
 * fails the MAC and the request gets 400 E0000029. The position says which kind of request
 * issued it, so a polling cursor sent with `until` (or a bounded one without) is rejected too.
 */
export type Cursor =
  /** Polling: every event persisted after `seq` whose persistence time is at least `sinceMs`. */
  | { kind: 'polling'; seq: number; sinceMs: number }
  /** Bounded: the last event served, in (published, seq) order, in the direction of `order`. */
  | { kind: 'bounded'; order: 'ASCENDING' | 'DESCENDING'; publishedMs: number; seq: number };

export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  encode(cursor: Cursor): string {
    const position =
      cursor.kind === 'polling' ? `p_${cursor.seq}_${cursor.sinceMs}` : `${cursor.order === 'ASCENDING' ? 'a' : 'd'}_${cursor.publishedMs}_${cursor.seq}`;
    return `${Buffer.from(position).toString('base64url')}.${this.mac(position)}`;
  }

  /** The cursor, or undefined when it was not issued by this simulator as it stands. */
  decode(token: string): Cursor | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const position = Buffer.from(token.slice(0, dot), 'base64url').toString('latin1');
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(position));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const match = /^([pad])_(-?\d+)_(-?\d+)$/.exec(position);
    if (!match) return undefined;
    const [, kind, first, second] = match;
    if (kind === 'p') return { kind: 'polling', seq: Number(first), sinceMs: Number(second) };
    return { kind: 'bounded', order: kind === 'a' ? 'ASCENDING' : 'DESCENDING', publishedMs: Number(first), seq: Number(second) };
  }

  private mac(position: string): string {
    return createHmac('sha256', this.secret).update(position).digest('base64url').slice(0, 22);
  }
}
