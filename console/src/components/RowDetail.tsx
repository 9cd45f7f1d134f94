// A row, expanded: per provider its judgements, sightings and indicators as tables, its pivot
// links, and the graph of the observable's relations.
import type { ObservableRef, ProviderResult } from '../api.js';
import { relationsOf, type ResultRow } from '../results.js';
import { ProviderChip } from './ProviderChip.js';
import { RelationGraph } from './RelationGraph.js';

type Entity = Record<string, unknown>;

interface EntityLine {
  title: string;
  source: string;
  time: string;
  level: string;
  link: string | undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** Only http(s) links are made clickable: an answer must not be able to plant a javascript: URL. */
export function safeUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function timeOf(entity: Entity, field: 'valid_time' | 'observed_time'): string {
  return text((entity[field] as { start_time?: string } | undefined)?.start_time);
}

function level(entity: Entity): string {
  const parts = [text(entity.confidence) && `confidence ${text(entity.confidence)}`, text(entity.severity) && `severity ${text(entity.severity)}`];
  return parts.filter((part) => part !== '').join(', ');
}

function externalLink(entity: Entity): string | undefined {
  const references = (entity.external_references ?? []) as { url?: string }[];
  return safeUrl(entity.source_uri) ?? references.map((reference) => safeUrl(reference.url)).find((url) => url !== undefined);
}

const LINES: Record<'judgements' | 'sightings' | 'indicators', (entity: Entity) => EntityLine> = {
  judgements: (entity) => ({
    title: text(entity.reason) || text(entity.disposition_name),
    source: text(entity.source),
    time: timeOf(entity, 'valid_time'),
    level: level(entity),
    link: externalLink(entity),
  }),
  sightings: (entity) => ({
    title: text(entity.title) || text(entity.description),
    source: text(entity.source),
    time: timeOf(entity, 'observed_time'),
    level: level(entity),
    link: externalLink(entity),
  }),
  indicators: (entity) => ({
    title: text(entity.title) || text(entity.short_description),
    source: text(entity.source) || text(entity.producer),
    time: timeOf(entity, 'valid_time'),
    level: level(entity),
    link: externalLink(entity),
  }),
};

const LABELS = { judgements: 'Judgements', sightings: 'Sightings', indicators: 'Indicators' } as const;

function EntityTable({ provider, kind }: { provider: ProviderResult; kind: keyof typeof LINES }) {
  const docs = (provider.ctim?.[kind]?.docs ?? []) as Entity[];
  if (docs.length === 0) return null;
  const lines = docs.map(LINES[kind]);
  return (
    <table class="entities" data-kind={kind}>
      <caption>
        {LABELS[kind]} from {provider.name} ({provider.ctim?.[kind]?.count ?? docs.length})
      </caption>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col">Source</th>
          <th scope="col">Time</th>
          <th scope="col">Confidence / severity</th>
          <th scope="col">Link</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((line, index) => (
          <tr key={index}>
            <td data-label="Title">{line.title}</td>
            <td data-label="Source">{line.source}</td>
            <td data-label="Time">{line.time === '' ? '' : <time dateTime={line.time}>{formatTime(line.time)}</time>}</td>
            <td data-label="Confidence / severity">{line.level}</td>
            <td data-label="Link">
              {line.link === undefined ? (
                ''
              ) : (
                <a href={line.link} target="_blank" rel="noopener noreferrer">
                  open<span class="visually-hidden"> {line.title} at {provider.name}</span>
                </a>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function formatTime(iso: string | undefined): string {
  if (iso === undefined || iso === '') return '';
  return iso.replace('T', ' ').replace(/:\d{2}(\.\d+)?Z$/, ' UTC');
}

export function RowDetail({ row, onPivot }: { row: ResultRow; onPivot: (observable: ObservableRef) => void }) {
  // In mount order (the chips' order), not the order the answers happened to arrive in.
  const rank = (id: string) => {
    const index = row.expected.findIndex((provider) => provider.id === id);
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  const answered = [...row.providers].sort((a, b) => rank(a.id) - rank(b.id));
  return (
    <div class="detail">
      {answered.map((provider) => {
        const links = (provider.links ?? []).filter((link) => safeUrl(link.url) !== undefined);
        return (
          <section key={provider.id} class="provider-detail" aria-label={`${provider.name} on ${row.observable.value}`}>
            <h3>
              <ProviderChip name={provider.name} result={provider} />
            </h3>
            <EntityTable provider={provider} kind="judgements" />
            <EntityTable provider={provider} kind="sightings" />
            <EntityTable provider={provider} kind="indicators" />
            {provider.status === 'ok' && provider.ctim === undefined ? <p class="muted">No entities in this answer.</p> : null}
            {links.length > 0 ? (
              <ul class="links" aria-label={`Pivot links at ${provider.name}`}>
                {links.map((link) => (
                  <li key={link.url}>
                    <a href={safeUrl(link.url)} target="_blank" rel="noopener noreferrer">
                      {link.title}
                    </a>
                  </li>
                ))}
              </ul>
            ) : null}
          </section>
        );
      })}
      <section class="relations" aria-label={`Relations of ${row.observable.value}`}>
        <h3>Relations</h3>
        <RelationGraph center={row.observable} relations={relationsOf(row)} onPivot={onPivot} />
      </section>
    </div>
  );
}
