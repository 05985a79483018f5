import { formatCount, formatDuration } from '../cli/terminal.js';
import { attentionItems, type ClusterStatus, type OrgStatus } from './report.js';

/** `status` for people: one row per org (its reason and what to do below it), the sink's partitions, Elasticsearch, and what needs attention. */
export function formatStatusTable(status: ClusterStatus): string {
  const nowMs = Date.parse(status.checkedAt);
  const lines: string[] = [`okta-forwarder status at ${status.checkedAt}`, ''];
  if (status.orgs.length === 0) lines.push('No org is configured (okta.orgs).');
  else {
    const header = ['ORG', 'STATE', 'SINCE', 'OWNER', 'NEWEST EVENT', 'POLL LAG', 'EVENTS', 'BACKFILL', 'RATE LIMIT'];
    const rows = status.orgs.map((org) => orgRow(org, nowMs).map(cell));
    const details = status.orgs.map(orgDetails);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
    const render = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
    lines.push(render(header));
    rows.forEach((row, index) => {
      lines.push(render(row));
      for (const detail of details[index] ?? []) lines.push(`    ${detail}`);
    });
  }
  const group = status.pollerGroup;
  lines.push('', `Poller group ${group.group}: ${group.state}, ${group.members.length === 0 ? 'no member' : group.members.map((m) => `${m.process} (${m.slots.length} slot(s))`).join(', ')}`);

  const sink = status.sink;
  lines.push('', `Sink group ${sink.group}: ${sink.groupState ?? 'unknown'}, ${sink.members ?? '?'} member(s), lag ${formatCount(sink.totalLag)}`);
  if (sink.partitions.length > 0) {
    const header = ['PARTITION', 'COMMITTED', 'END', 'LAG'];
    const rows = sink.partitions.map((p) => [String(p.partition), p.committed ?? 'none', p.end, formatCount(p.lag)]);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
    for (const row of [header, ...rows]) lines.push(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  }
  if (sink.reason) lines.push(`    ${sink.reason}`);
  if (sink.whatToDo) lines.push(`    what to do: ${sink.whatToDo}`);

  const es = status.elasticsearch;
  const recent =
    es.documentsLast24h === undefined
      ? ''
      : `; ${formatCount(es.documentsLast24h)} document(s) with an event time in the last 24 h${perOrg(es.documentsLast24hByOrg)}`;
  lines.push('', `Elasticsearch: ${es.state} (${es.detail})${recent}`);
  if (es.whatToDo) lines.push(`    what to do: ${es.whatToDo}`);

  const attention = attentionItems(status);
  if (attention.length === 0) lines.push('', 'All is well.');
  else lines.push('', 'Needs attention:', ...attention.map((item) => `  - ${item}`));
  return `${lines.map(printable).join('\n')}\n`;
}

function orgRow(org: OrgStatus, nowMs: number): string[] {
  const sinceMs = org.since ? Date.parse(org.since) : Number.NaN;
  const backfill = org.backfill ? (org.backfill.caughtUp ? 'done' : `${(org.backfill.ratio * 100).toFixed(1)}%${org.backfill.etaSeconds === undefined ? '' : ` ETA ${formatDuration(org.backfill.etaSeconds)}`}`) : '-';
  return [
    org.org,
    org.state,
    Number.isFinite(sinceMs) ? `${formatDuration((nowMs - sinceMs) / 1000)} ago` : '-',
    org.owner ?? 'none',
    org.newestEvent ?? '-',
    org.pollLagSeconds === undefined ? '-' : formatDuration(org.pollLagSeconds),
    org.events === undefined ? '-' : formatCount(org.events),
    backfill,
    org.rateLimit ? `${(org.rateLimit.shareUsed * 100).toFixed(0)}% of ${(org.rateLimit.share * 100).toFixed(0)}%` : '-',
  ];
}

function orgDetails(org: OrgStatus): string[] {
  const details: string[] = [];
  if (org.reason) details.push(`reason: ${org.reason}`);
  if (org.whatToDo) details.push(`what to do: ${org.whatToDo}`);
  return details;
}

function perOrg(byOrg: Record<string, number> | undefined): string {
  const entries = Object.entries(byOrg ?? {});
  return entries.length === 0 ? '' : ` (${entries.map(([org, count]) => `${org} ${formatCount(count)}`).join(', ')})`;
}

/**
 * A reason quotes what a server answered, an owner is what a group member says of itself: each
 * line of the table stays one line, and no control character reaches the terminal.
 */
function printable(line: string): string {
  return line.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** A table cell: one printable line, not so long that it breaks the columns of every row. */
function cell(text: string): string {
  const line = printable(text);
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
