// Pivot links to the X-Force Exchange web pages of an observable.
import type { Observable } from '../../core/observables.js';
import type { ReferLink } from '../../core/provider.js';
import { upstreamUrl } from '../../core/upstream.js';
import type { ObservableType } from '../../core/validators.js';
import { DISPLAY_NAME } from './display-name.js';

const PAGE_KINDS: Partial<Record<ObservableType, string>> = {
  ip: 'ip',
  ipv6: 'ip',
  domain: 'url',
  url: 'url',
  md5: 'malware',
  sha1: 'malware',
  sha256: 'malware',
};

const TYPE_NAMES: Partial<Record<ObservableType, string>> = {
  ip: 'IP',
  ipv6: 'IPv6',
  domain: 'domain',
  url: 'URL',
  md5: 'MD5',
  sha1: 'SHA1',
  sha256: 'SHA256',
};

/** `<ui>/ip/<v>`, `<ui>/url/<v>` or `<ui>/malware/<v>`, the value encoded as one path segment. */
export function xforcePageUrl(uiUrl: string, observable: Observable): string {
  const { origin, path } = upstreamUrl(uiUrl, [PAGE_KINDS[observable.type] ?? observable.type, observable.value]);
  return origin + path;
}

export function referLink(uiUrl: string, observable: Observable): ReferLink {
  const name = TYPE_NAMES[observable.type] ?? observable.type;
  return {
    id: `ref-ibm-xforce-exchange-search-${observable.type}-${observable.value}`,
    title: `Search for this ${name}`,
    description: `Lookup this ${name} on ${DISPLAY_NAME}`,
    url: xforcePageUrl(uiUrl, observable),
    categories: ['Search', DISPLAY_NAME],
  };
}
