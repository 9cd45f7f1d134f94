// CyberCrime Tracker's HTTP calls.
import type { RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { parseAnswer, parseJson, statusError, upstreamUrl, type Http, type UpstreamResponse } from '../../core/upstream.js';
import { DISPLAY_NAME, lookupValue, parseQueryAnswer, type QueryAnswer } from './mapping.js';

function failure(response: UpstreamResponse): RelayError {
  // No credentials are involved, so a 401/403 cannot be an authorization problem of ours.
  return statusError(response, DISPLAY_NAME, { 401: 'unknown', 403: 'permission denied' });
}

export async function queryObservable(http: Http, baseUrl: string, observable: Observable): Promise<QueryAnswer> {
  const response = await http.request({ call: 'query', url: upstreamUrl(baseUrl, ['query.php'], { url: lookupValue(observable) }) });
  if (response.status !== 200) throw failure(response);
  return parseAnswer(response, () => parseQueryAnswer(parseJson(response, DISPLAY_NAME)));
}

export async function checkHealth(http: Http, baseUrl: string): Promise<void> {
  const response = await http.request({ call: 'health', url: upstreamUrl(baseUrl) });
  if (response.status < 200 || response.status >= 300) throw failure(response);
}
