// OTX's HTTP calls. The key travels in the `X-OTX-API-KEY` header, never in a URL.
import { authorizationError, type RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { parseJson, parsedOnce, statusError, upstreamUrl, type Http, type UpstreamResponse } from '../../core/upstream.js';
import { parseGeneralAnswer, parsePulseIndicatorsPage, type GeneralAnswer, type PulseIndicatorsPage } from './answers.js';
import { DISPLAY_NAME } from './display-name.js';
import { generalSection } from './mapping.js';

export interface OtxCredentials {
  key: string;
}

// OTX answers 403 to a missing or wrong key.
const STATUS_CODES: Partial<Record<number, RelayError['code']>> = { 403: 'authorization error' };

function keyHeader(credentials: OtxCredentials): Record<string, string> {
  // A key no HTTP header can carry cannot be OTX's: refused here, as OTX would refuse it.
  if (!/^[\x21-\x7e]+$/.test(credentials.key)) throw authorizationError(`Authorization failed on ${DISPLAY_NAME} side`);
  return { 'X-OTX-API-KEY': credentials.key };
}

/** The answer parsed by `parse`; 400 and 404 mean OTX knows nothing of the value: undefined, not an error. */
async function lookup<T extends { cachedAt?: number | undefined }>(
  http: Http,
  call: string,
  credentials: OtxCredentials,
  url: ReturnType<typeof upstreamUrl>,
  parse: (json: unknown) => T,
): Promise<T | undefined> {
  const response: UpstreamResponse = await http.request({ call, url, headers: keyHeader(credentials) });
  if (response.status === 400 || response.status === 404) return undefined;
  if (response.status !== 200) throw statusError(response, DISPLAY_NAME, STATUS_CODES);
  return parsedOnce(response, call, () => {
    const answer = parse(parseJson(response, DISPLAY_NAME));
    if (response.cachedAt !== undefined) answer.cachedAt = response.cachedAt;
    return answer;
  });
}

/** The pulses listing the observable; undefined when OTX knows nothing of it (or has no such lookup, as for email). */
export async function fetchGeneral(http: Http, baseUrl: string, credentials: OtxCredentials, observable: Observable): Promise<GeneralAnswer | undefined> {
  const section = generalSection(observable);
  if (section === undefined) return undefined;
  return lookup(http, 'general', credentials, upstreamUrl(baseUrl, ['api', 'v1', 'indicators', section, observable.value, 'general']), parseGeneralAnswer);
}

/** One page of a pulse's indicator list, newest first. */
export async function fetchPulseIndicatorsPage(
  http: Http,
  baseUrl: string,
  credentials: OtxCredentials,
  request: { pulseId: string; page: number; pageSize: number },
): Promise<PulseIndicatorsPage | undefined> {
  const url = upstreamUrl(baseUrl, ['api', 'v1', 'pulses', request.pulseId, 'indicators'], {
    sort: '-created',
    limit: String(request.pageSize),
    page: String(request.page),
  });
  return lookup(http, 'pulse indicators', credentials, url, parsePulseIndicatorsPage);
}

/** The cheapest call that proves the key: the key's own user. */
export async function checkHealth(http: Http, baseUrl: string, credentials: OtxCredentials): Promise<void> {
  const response = await http.request({ call: 'health', url: upstreamUrl(baseUrl, ['api', 'v1', 'user', 'me']), headers: keyHeader(credentials) });
  if (response.status !== 200) throw statusError(response, DISPLAY_NAME, STATUS_CODES);
}
