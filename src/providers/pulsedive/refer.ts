// Pulsedive's pivot links: a search for every supported observable, a browse link to the
// indicator page for the ones Pulsedive knows.
import type { Observable } from '../../core/observables.js';
import type { ReferLink } from '../../core/provider.js';
import { DISPLAY_NAME } from './display-name.js';
import { indicatorPage, searchPage } from './pages.js';

const TYPE_NAMES: Record<string, string> = { ip: 'IP', ipv6: 'IPv6', domain: 'domain', url: 'URL' };

function typeName(observable: Observable): string {
  return TYPE_NAMES[observable.type] ?? observable.type;
}

export function searchLink(uiUrl: string, observable: Observable): ReferLink {
  const name = typeName(observable);
  return {
    id: `ref-pulsedive-search-${observable.type}-${encodeURIComponent(observable.value)}`,
    title: `Search for this ${name}`,
    description: `Lookup this ${name} on ${DISPLAY_NAME}`,
    url: searchPage(uiUrl, observable.value),
    categories: ['Search', DISPLAY_NAME],
  };
}

export function browseLink(uiUrl: string, observable: Observable, iid: number | string): ReferLink {
  const name = typeName(observable);
  return {
    id: `ref-pulsedive-detail-${observable.type}-${encodeURIComponent(observable.value)}`,
    title: `Browse ${name}`,
    description: `Browse this ${name} on ${DISPLAY_NAME}`,
    url: indicatorPage(uiUrl, iid),
    categories: ['Browse', DISPLAY_NAME],
  };
}
