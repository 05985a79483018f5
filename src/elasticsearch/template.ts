import type { Client } from '@elastic/elasticsearch';
import { ForwarderError } from '../errors.js';
import { OCSF_VERSION } from '../normalize/index.js';

/**
 * The composable index template for the OCSF activity documents (src/normalize) in `${prefix}-*`.
 *
 * Mapping policy: `dynamic: 'strict'` everywhere. Every path normalizeEvent can write is mapped
 * here (test/unit/normalize.test.ts proves it for every fixture and simulator event), so an
 * unmapped path means the two drifted apart: Elasticsearch answers 400 for that document and the
 * sink dead-letters it, visibly, instead of silently indexing a field nobody can query.
 * The open-ended parts are not mapped field by field: `unmapped` (every Okta field without an
 * OCSF home) is one `flattened` field, all leaves searchable as keywords, with no mapping growth;
 * `raw_data` is kept in _source only.
 *
 * Field types: `date` for times, `ip` for addresses, `geo_point` for coordinates, `keyword` for
 * ids, enums and names, `text` + keyword subfield only for `message` and the user agent, `integer`
 * for OCSF enum ids, `long` for epoch milliseconds. Only types available in the minimal
 * Elasticsearch distribution are used (no match_only_text, no wildcard).
 */
export const TEMPLATE_VERSION = 1;

const keyword = { type: 'keyword', ignore_above: 1024 } as const;
const integer = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const ip = { type: 'ip' } as const;
const double = { type: 'double' } as const;
const searchableText = { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } } } as const;

const object = (properties: Record<string, unknown>) => ({ properties });

/** OCSF user (objects/user.json): actor.user and the target user. */
const user = object({ uid: keyword, name: keyword, full_name: keyword, email_addr: keyword, type: keyword, type_id: integer });
/** group, service, managed_entity and resource_details share uid / name / type here. */
const entity = object({ uid: keyword, name: keyword, type: keyword });

export const ACTIVITY_MAPPINGS = {
  dynamic: 'strict',
  properties: {
    '@timestamp': { type: 'date' },
    time: { type: 'date', format: 'epoch_millis' },
    category_uid: integer,
    category_name: keyword,
    class_uid: integer,
    class_name: keyword,
    activity_id: integer,
    activity_name: keyword,
    type_uid: { type: 'long' },
    type_name: keyword,
    severity_id: integer,
    severity: keyword,
    status_id: integer,
    status: keyword,
    status_code: keyword,
    status_detail: keyword,
    message: searchableText,
    metadata: object({
      uid: keyword,
      event_code: keyword,
      product: object({ name: keyword, vendor_name: keyword }),
      version: keyword,
      log_version: keyword,
      log_level: keyword,
      original_time: keyword,
      correlation_uid: keyword,
      tenant_uid: keyword,
      labels: keyword,
    }),
    actor: object({ user, session: object({ uid: keyword, issuer: keyword }), app_uid: keyword }),
    src_endpoint: object({
      ip,
      intermediate_ips: ip,
      zone: keyword,
      location: object({
        city: keyword,
        region: keyword,
        country: keyword,
        postal_code: keyword,
        lat: double,
        long: double,
        coordinates: { type: 'geo_point' },
      }),
    }),
    http_request: object({ user_agent: searchableText, uid: keyword, url: object({ path: keyword }) }),
    device: object({
      uid: keyword,
      name: keyword,
      type: keyword,
      type_id: integer,
      is_managed: bool,
      os: object({ name: keyword, type: keyword, type_id: integer, version: keyword }),
    }),
    user,
    group: entity,
    service: entity,
    entity,
    resources: entity,
    privileges: keyword,
    api: object({ operation: keyword }),
    is_mfa: bool,
    auth_protocol: keyword,
    auth_protocol_id: integer,
    logon_type: keyword,
    logon_type_id: integer,
    auth_factors: object({ factor_type: keyword, factor_type_id: integer, provider: keyword }),
    unmapped: { type: 'flattened', ignore_above: 8191, depth_limit: 40 },
    raw_data: { type: 'text', index: false },
  },
} as const;

export interface ActivityIndexTemplate {
  name: string;
  index_patterns: string[];
  priority: number;
  template: { settings: object; mappings: object };
  _meta: object;
}

/** Composable index template body (for client.indices.putIndexTemplate) for `${prefix}-*`. */
export function activityIndexTemplate(prefix: string): ActivityIndexTemplate {
  return {
    name: `${prefix}-template`,
    index_patterns: [`${prefix}-*`],
    // Above the built-in templates (100) so a prefix such as `logs-okta` would still get this one.
    priority: 200,
    template: {
      settings: { number_of_shards: 1, number_of_replicas: 1 },
      mappings: ACTIVITY_MAPPINGS,
    },
    _meta: { managed_by: 'okta-forwarder', ocsf_version: OCSF_VERSION, template_version: TEMPLATE_VERSION },
  };
}

/** Installs (creates or replaces) the template; idempotent. Existing indices keep their mapping; new daily indices get this one. */
export async function installIndexTemplate(client: Client, prefix: string): Promise<void> {
  const { name, ...body } = activityIndexTemplate(prefix);
  try {
    await client.indices.putIndexTemplate({ name, ...body } as Parameters<Client['indices']['putIndexTemplate']>[0]);
  } catch (err) {
    throw new ForwarderError('OF_ELASTICSEARCH', `installing index template ${name}: ${(err as Error).message}`, { cause: err, retriable: isRetriable(err) });
  }
}

/** Connection failures and 429/5xx answers may pass; a 400 (a bad template) will not. */
function isRetriable(err: unknown): boolean {
  const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
  return status === undefined || status === 429 || status >= 500;
}
