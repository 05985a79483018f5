import { pickScenario, type Emitted } from './event-templates.js';
import type { OktaEvent } from './okta-event.js';
import { createOrgDirectory, type OrgDirectory } from './org-directory.js';
import { Random } from './random.js';

/** Events and their JSON text, index for index. */
export interface GeneratedBatch {
  events: OktaEvent[];
  json: string[];
}

/**
 * Realistic System Log events for one simulated org. The same seed gives the same events for the
 * same times. Scenarios (a sign-in is policy evaluation, MFA, session start, SSO) are drawn one
 * after another and their events handed out in order, so related events sit next to each other
 * in time as in a real org; a scenario cut by the end of one `generate` call continues in the next.
 *
 * Speed matters (100,000 events for a test, in well under the time the test then takes): events
 * are plain object literals, and their JSON is produced here, once, because serialization is
 * most of the cost. The parts an origin determines (actor, client, request, securityContext:
 * more than half of an event's text) are serialized once per run of events from that origin;
 * json[i] is still exactly JSON.stringify(events[i]).
 */
export class EventGenerator {
  private readonly random: Random;
  private readonly directory: OrgDirectory;
  private pending: Emitted[] = [];
  private pendingIndex = 0;
  private lastOrigin: object | undefined;
  private lastActorId = '';
  private lastPrefix = '';

  constructor(seed?: number) {
    this.random = new Random(seed);
    this.directory = createOrgDirectory(this.random);
  }

  /** One event per time in `publishedTimes` (epoch ms, ascending), published at that time. */
  generate(publishedTimes: ArrayLike<number>): GeneratedBatch {
    const count = publishedTimes.length;
    const events: OktaEvent[] = new Array(count);
    const json: string[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const { event, origin } = this.next();
      event.published = new Date(publishedTimes[i] as number).toISOString();
      events[i] = event;
      json[i] = this.serialize(event, origin);
    }
    return { events, json };
  }

  /**
   * `count` times spread over [from, to] (epoch ms, whole milliseconds), ascending: uniformly
   * random within the window, so the traffic has gaps and bursts like a real org's.
   */
  spread(count: number, from: number, to: number): Float64Array {
    const times = new Float64Array(count);
    const span = Math.max(0, to - from);
    for (let i = 0; i < count; i++) times[i] = from + Math.floor(this.random.float() * (span + 1));
    return times.sort();
  }

  /** A number in [0, 1) from the generator's random stream (for callers' own choices). */
  float(): number {
    return this.random.float();
  }

  private next(): Emitted {
    if (this.pendingIndex >= this.pending.length) {
      this.pending = pickScenario(this.random).run(this.random, this.directory);
      this.pendingIndex = 0;
    }
    return this.pending[this.pendingIndex++] as Emitted;
  }

  /** JSON.stringify(event), with the origin's part reused from the previous event when it is the same. */
  private serialize(event: OktaEvent, origin: object): string {
    const { actor, client, request, securityContext, ...own } = event;
    if (origin !== this.lastOrigin || actor.id !== this.lastActorId) {
      this.lastOrigin = origin;
      this.lastActorId = actor.id;
      this.lastPrefix = JSON.stringify({ actor, client, request, securityContext }).slice(0, -1);
    }
    return `${this.lastPrefix},${JSON.stringify(own).slice(1)}`;
  }
}
