import { connect, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { Random } from '../../src/simulator/random.js';

/** Kafka protocol API keys worth cutting: where a lost response leaves the client unsure of what happened. */
export const KAFKA_API = { Produce: 0, Fetch: 1, FindCoordinator: 10, InitProducerId: 22, AddPartitionsToTxn: 24, EndTxn: 26 } as const;
export type KafkaApiName = keyof typeof KAFKA_API;

export interface NetworkFaults {
  /** For KafkaJS's `socketFactory`. */
  socketFactory: ISocketFactory;
  /** Faults that landed, by API: the request reached the broker, its response never reached the client. */
  landed: Record<string, number>;
  /** Requests written, by API (of the chosen ones). */
  seen: Record<string, number>;
  /** Stops injecting (connections already cut stay cut). */
  stop(): void;
}

/**
 * A KafkaJS socket factory that loses responses: with the probability given for its API, a request
 * is written to the broker in full, then the connection drops its response and is
 * reset shortly after, as a network failure or a broker restart would do. The broker has acted
 * on the request; the client cannot know. Seeded, so a failing run can be replayed.
 */
export function responseLosingSockets(options: { seed: number; rates: Partial<Record<KafkaApiName, number>>; delayMs?: number }): NetworkFaults {
  const random = new Random(options.seed);
  const targets = new Map(Object.entries(options.rates).map(([name, rate]) => [KAFKA_API[name as KafkaApiName] as number, { name, rate: rate ?? 0 }]));
  const landed: Record<string, number> = {};
  const seen: Record<string, number> = {};
  let active = true;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    let dropping = false;
    const write = socket.write.bind(socket) as Socket['write'];
    socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
      const written = (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      const apiKey = Buffer.isBuffer(chunk) && chunk.length >= 6 ? chunk.readInt16BE(4) : -1;
      const target = targets.get(apiKey);
      if (target) seen[target.name] = (seen[target.name] ?? 0) + 1;
      if (active && target && !dropping && random.chance(target.rate)) {
        const { name } = target;
        dropping = true;
        landed[name] = (landed[name] ?? 0) + 1;
        setTimeout(() => socket.destroy(new Error(`injected fault: connection reset after a ${name} request reached the broker`)), options.delayMs ?? 100);
      }
      return written;
    }) as Socket['write'];
    // Once a request is doomed, nothing more comes back on this connection.
    const emit = socket.emit.bind(socket) as Socket['emit'];
    socket.emit = ((event: string | symbol, ...args: unknown[]) => (dropping && event === 'data' ? true : (emit as (...a: unknown[]) => boolean)(event, ...args))) as Socket['emit'];
    return socket;
  };
  return {
    socketFactory,
    landed,
    seen,
    stop: () => {
      active = false;
    },
  };
}
