// Pivot links to OTX's own indicator pages; they need no upstream call.
import type { Observable } from '../../core/observables.js';
import type { ReferLink } from '../../core/provider.js';
import type { ObservableType } from '../../core/validators.js';
import { DISPLAY_NAME } from './display-name.js';

const PAGES: Partial<Record<ObservableType, { name: string; section: string }>> = {
  domain: { name: 'domain', section: 'domain' },
  email: { name: 'email', section: 'email' },
  md5: { name: 'MD5', section: 'file' },
  sha1: { name: 'SHA1', section: 'file' },
  sha256: { name: 'SHA256', section: 'file' },
  ip: { name: 'IP', section: 'ip' },
  ipv6: { name: 'IPv6', section: 'ip' },
  url: { name: 'URL', section: 'url' },
};

/** The value as one path segment; `:` and `@` are legal there and keep ipv6 and email links readable. */
function pathSegment(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':').replace(/%40/gi, '@').replace(/^\.{1,2}$/, (dots) => dots.replace(/\./g, '%2E'));
}

export function referLinks(baseUrl: string, observable: Observable): ReferLink[] {
  const page = PAGES[observable.type];
  if (page === undefined) return [];
  return [
    {
      id: `ref-avotx-search-${observable.type}-${encodeURIComponent(observable.value)}`,
      title: `Search for this ${page.name}`,
      description: `Lookup this ${page.name} on ${DISPLAY_NAME}`,
      url: `${baseUrl.replace(/\/+$/, '')}/indicator/${page.section}/${pathSegment(observable.value)}`,
      categories: ['Search', DISPLAY_NAME],
    },
  ];
}
