import { CONFIG_SCHEMA, ORG_SCHEMA } from './schema.js';

interface SettingDoc {
  doc: string;
  default: unknown;
  format: unknown;
  env?: string;
  sensitive?: boolean;
  secretFile?: boolean;
  secretEnv?: boolean;
}

/** Every setting of the schema as [dotted key, declaration], org settings as okta.orgs[].key. */
export function settings(): [string, SettingDoc][] {
  const rows: [string, SettingDoc][] = [];
  const walk = (node: object, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if ('doc' in value) {
        rows.push([path, value as SettingDoc]);
        if (path === 'okta.orgs') walk(ORG_SCHEMA, 'okta.orgs[]');
      } else {
        walk(value as object, path);
      }
    }
  };
  walk(CONFIG_SCHEMA, '');
  return rows;
}

function formatName(format: unknown): string {
  if (Array.isArray(format)) return format.map((f) => `"${String(f)}"`).join(' \\| ');
  if (typeof format === 'function') return format.name.toLowerCase();
  return String(format);
}

/**
 * The configuration reference as a Markdown table, one row per setting, from the schema itself:
 * docs/configuration.md holds this table (a test checks it), `okta-forwarder config --reference` prints it.
 */
export function configReference(): string {
  const lines = ['| Key | Type | Default | Environment | Description |', '|---|---|---|---|---|'];
  for (const [key, setting] of settings()) {
    const env = setting.env ? `\`${setting.env}\`` : '';
    const description = `${setting.doc}${setting.sensitive ? ' *Secret: masked in every printout.*' : ''}`.replaceAll('|', '\\|');
    lines.push(`| \`${key}\` | ${formatName(setting.format)} | \`${JSON.stringify(setting.default)}\` | ${env} | ${description} |`);
  }
  return `${lines.join('\n')}\n`;
}
