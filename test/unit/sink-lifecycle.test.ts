import { EventEmitter } from 'node:events';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { ActivitySink } from '../../src/sink/sink.js';
import { SinkTelemetry } from '../../src/sink/telemetry.js';

const EVENTS = { STOP: 'consumer.stop', CRASH: 'consumer.crash', END_BATCH_PROCESS: 'consumer.end_batch_process' };

/** A KafkaJS stand-in with just the lifecycle the sink's start() and stop() use; its consumer can crash on demand. */
function fakeKafka() {
  const consumers: (EventEmitter & { stop(): void })[] = [];
  const kafka = {
    producer: () => ({ connect: async () => undefined, disconnect: async () => undefined, send: async () => undefined }),
    admin: () => ({ connect: async () => undefined, disconnect: async () => undefined, describeConfigs: async () => ({ resources: [] }) }),
    consumer: () => {
      const emitter = new EventEmitter() as EventEmitter & { stop(): void };
      const consumer = {
        events: EVENTS,
        connect: async () => undefined,
        subscribe: async () => undefined,
        run: async () => undefined,
        on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
        disconnect: async () => void emitter.emit(EVENTS.STOP, {}),
        commitOffsets: async () => undefined,
      };
      emitter.stop = () => void consumer.disconnect();
      consumers.push(emitter);
      return consumer;
    },
  };
  return { kafka: kafka as unknown as Kafka, consumers };
}

function sink(kafka: Kafka): ActivitySink {
  return new ActivitySink({
    kafka,
    elasticsearch: {} as Client,
    codec: createOktaEventCodec(),
    telemetry: new SinkTelemetry(createLogger({ level: 'silent', destination: { write: () => undefined } }), createMetrics()),
    eventsTopic: 'events',
    deadLetterTopic: 'dlq',
    groupId: 'group',
    sessionTimeoutMs: 10_000,
    indexPrefix: 'activity',
    keepRaw: false,
  });
}

describe('the sink consumer lifecycle', () => {
  it('does not end when KafkaJS stops a crashed consumer: done rejects with the crash, it does not resolve as a clean stop', async () => {
    const { kafka, consumers } = fakeKafka();
    const handle = await sink(kafka).start();
    let settled: string | undefined;
    handle.done.then(
      () => (settled = 'resolved'),
      (err: Error) => (settled = `rejected: ${err.message}`),
    );
    // What KafkaJS does on a crash it will not restart: STOP first, then CRASH, a few turns later.
    consumers[0]!.emit(EVENTS.STOP, {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBeUndefined();
    consumers[0]!.emit(EVENTS.CRASH, { payload: { error: new Error('group authorization failed'), restart: false } });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(settled).toBe('rejected: group authorization failed');
  });

  it('keeps running through a crash KafkaJS restarts by itself', async () => {
    const { kafka, consumers } = fakeKafka();
    const handle = await sink(kafka).start();
    let settled = false;
    handle.done.then(
      () => (settled = true),
      () => (settled = true),
    );
    consumers[0]!.emit(EVENTS.STOP, {});
    consumers[0]!.emit(EVENTS.CRASH, { payload: { error: new Error('connection closed'), restart: true } });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
  });

  it('resolves done when stopped', async () => {
    const { kafka } = fakeKafka();
    const handle = await sink(kafka).start();
    await handle.stop();
    await expect(handle.done).resolves.toBeUndefined();
  });
});
