// Addresses of Pulsedive's own web pages (UI base + path), for source_uri and refer links.
import { upstreamUrl } from '../../core/upstream.js';

function page(uiUrl: string, section: string, query: Record<string, string>): string {
  // The trailing empty segment gives Pulsedive's `<section>/?…` form.
  const { origin, path } = upstreamUrl(uiUrl, [section, ''], query);
  return origin + path;
}

export function indicatorPage(uiUrl: string, iid: number | string): string {
  return page(uiUrl, 'indicator', { iid: String(iid) });
}

export function threatPage(uiUrl: string, tid: number | string): string {
  return page(uiUrl, 'threat', { tid: String(tid) });
}

export function feedPage(uiUrl: string, fid: number | string): string {
  return page(uiUrl, 'feed', { fid: String(fid) });
}

/** The browse page's query for exactly one indicator value, any type, any risk, ever seen. */
export function browseQuery(value: string): unknown {
  const indicator = { type: 'indicator', value };
  return {
    type: ['artifact', 'domain', 'ip', 'ipv6', 'url'],
    risk: ['unknown', 'none', 'low', 'medium', 'high', 'critical', 'retired'],
    lastseen: ['all'],
    indicator: [{ raw: indicator, htmlsafe: indicator, exact: true }],
    attribute: [],
    property: [],
    threat: [],
    feed: [],
  };
}

/** `<ui>browse/?q=<base64 of the browse query>`; the value is JSON-escaped, then the whole encoded. */
export function searchPage(uiUrl: string, value: string): string {
  return page(uiUrl, 'browse', { q: Buffer.from(JSON.stringify(browseQuery(value)), 'utf8').toString('base64') });
}
