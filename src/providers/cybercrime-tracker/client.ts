// CyberCrime Tracker's HTTP calls.
import { RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { parseJson, statusError, upstreamUrl, type Http, type UpstreamResponse } from '../../core/upstream.js';
import { DISPLAY_NAME, lookupValue, parseQueryAnswer, type QueryAnswer } from './mapping.js';

function failure(response: UpstreamResponse): RelayError {
  // Only 404 and the 5xx family have a meaning of their own here; the rest is unexpected.
  const code = response.status === 404 ? 'not found' : response.status >= 500 ? 'service unavailable' : 'unknown';
  return statusError(response, DISPLAY_NAME, { [response.status]: code });
}

export async function queryObservable(http: Http, baseUrl: string, observable: Observable): Promise<QueryAnswer> {
  const response = await http.request({ call: 'query', url: upstreamUrl(baseUrl, ['query.php'], { url: lookupValue(observable) }) });
  if (response.status !== 200) throw failure(response);
  return parseQueryAnswer(parseJson(response, DISPLAY_NAME));
}

export async function checkHealth(http: Http, baseUrl: string): Promise<void> {
  const response = await http.request({ call: 'health', url: upstreamUrl(baseUrl) });
  if (response.status < 200 || response.status >= 300) throw failure(response);
}
