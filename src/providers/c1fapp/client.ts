// C1fApp's HTTP call: one POST of a JSON body (key, value, format, backend) to the API endpoint.
// The key travels in the body, never in the URL, so no logged URL can hold it.
import { parsedOnce, statusError, type Http, type UpstreamUrl } from '../../core/upstream.js';
import { DISPLAY_NAME } from './display-name.js';
import { isNothingKnownAnswer, parseLookupAnswer, type C1fappRecord } from './lookup-answer.js';

/** The value C1fApp's health check looks up, as the original module did. */
export const HEALTH_CHECK_VALUE = 'test.com';

/**
 * The endpoint exactly as configured (C1FAPP_API_URL is POSTed to as is): no slash appended,
 * since the value travels in the body and never becomes part of the URL.
 */
export function apiEndpoint(apiUrl: string): UpstreamUrl {
  const url = new URL(apiUrl);
  return { origin: url.origin, path: `${url.pathname}${url.search}` };
}

export async function lookup(http: Http, endpoint: UpstreamUrl, key: string, value: string, call = 'lookup'): Promise<C1fappRecord[]> {
  const response = await http.request({
    call,
    url: endpoint,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key, request: value, format: 'json', backend: 'es' }),
  });
  return parsedOnce(response, 'lookup', () => {
    // C1fApp answers "nothing known" as a plain sentence, whatever the status it comes with.
    if (isNothingKnownAnswer(response.body)) return [];
    // A refused key is 403 (`Invalid API key`): a credentials problem, not a permission one.
    if (response.status < 200 || response.status >= 300) throw statusError(response, DISPLAY_NAME, { 403: 'authorization error' });
    return parseLookupAnswer(response.body);
  });
}
