// X-Force Exchange's HTTP calls (HTTP Basic with the token's key and password).
import type { Observable } from '../../core/observables.js';
import { parseJson, parsedOnce, statusError, upstreamUrl, type Http, type UpstreamUrl } from '../../core/upstream.js';
import { parseCollections, parseReport, parseResolutions, reportKind, type Collection, type Report, type Resolutions } from './answers.js';
import { DISPLAY_NAME } from './display-name.js';
import { perObject } from '../../core/memo.js';

export interface XforceCredentials {
  key: string;
  password: string;
}

export interface XforceConfig {
  apiUrl: string;
  uiUrl: string;
}

export interface XforceCall {
  http: Http;
  config: XforceConfig;
  credentials: XforceCredentials;
}

/** X-Force answers these for a value it has nothing on (or cannot take): not an error for us. */
const NOTHING_KNOWN = new Set([400, 404, 406]);

/** Collections are looked up with the same path word as the report, except that ips use `ip`. */
const LINKAGE_KINDS = { ip: 'ip', url: 'url', malware: 'malware' } as const;
const REPORT_PATHS = { ip: 'ipr', url: 'url', malware: 'malware' } as const;

// A remembered token's credentials are the same object in every request (see relay.ts).
const basicAuthorization = perObject(
  (credentials: XforceCredentials): string => `Basic ${Buffer.from(`${credentials.key}:${credentials.password}`, 'utf8').toString('base64')}`,
);

/**
 * The answer parsed by `parse` (`parsing` names it, with what it depends on), or undefined when
 * X-Force knows nothing; other statuses are the contract's errors.
 */
async function getAnswer<T>(call: XforceCall, name: string, url: UpstreamUrl, parsing: string, parse: (json: unknown) => T): Promise<T | undefined> {
  const response = await call.http.request({ call: name, url, headers: { authorization: basicAuthorization(call.credentials) } });
  if (NOTHING_KNOWN.has(response.status)) return undefined;
  // 401 authorization error, 403 permission denied, 429 too many requests, 5xx unavailable.
  if (response.status < 200 || response.status >= 300) throw statusError(response, DISPLAY_NAME);
  return parsedOnce(response, parsing, () => parse(parseJson(response, DISPLAY_NAME)));
}

export async function fetchReport(call: XforceCall, observable: Observable): Promise<Report | undefined> {
  const kind = reportKind(observable.type);
  return getAnswer(call, 'report', upstreamUrl(call.config.apiUrl, [REPORT_PATHS[kind], observable.value]), `report ${kind}`, (json) => parseReport(kind, json));
}

/** DNS records of an ip, ipv6 or domain; urls and files have none to look up. */
export async function fetchResolutions(call: XforceCall, observable: Observable): Promise<Resolutions | undefined> {
  if (observable.type !== 'ip' && observable.type !== 'ipv6' && observable.type !== 'domain') return undefined;
  return getAnswer(call, 'resolve', upstreamUrl(call.config.apiUrl, ['resolve', observable.value]), 'resolve', parseResolutions);
}

export async function fetchCollections(call: XforceCall, observable: Observable): Promise<Collection[] | undefined> {
  const kind = LINKAGE_KINDS[reportKind(observable.type)];
  const url = upstreamUrl(call.config.apiUrl, ['api', 'linkage', kind, observable.value], { maxpertype: '20' });
  return getAnswer(call, 'linkage', url, 'linkage', parseCollections);
}

/** The subscription usage: cheap, and refused unless the key and password are good. */
export async function checkHealth(call: XforceCall): Promise<void> {
  const response = await call.http.request({
    call: 'health',
    url: upstreamUrl(call.config.apiUrl, ['all-subscriptions', 'usage']),
    headers: { authorization: basicAuthorization(call.credentials) },
  });
  if (response.status < 200 || response.status >= 300) throw statusError(response, DISPLAY_NAME);
}
