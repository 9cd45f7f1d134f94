// Pulsedive's HTTP calls: `info.php` with the API key as the `key` query parameter. The URLs
// carry the key, so they are never logged or put into a message.
import { RelayError, authorizationError, tooManyRequests } from '../../core/errors.js';
import { truncate } from '../../core/ctim.js';
import { parseAnswer, parseJson, statusError, upstreamUrl, type Http, type UpstreamResponse } from '../../core/upstream.js';
import { answerErrorText, isNotFoundError, parseInfoAnswer, parseLinksAnswer, type InfoAnswer, type LinksAnswer } from './answers.js';
import { DISPLAY_NAME } from './display-name.js';

/** Statuses Pulsedive gives for a value it has nothing on (or will not look up): not a failure. */
const NOTHING_KNOWN = new Set([400, 404, 406]);
/** The indicator the health check reads: any indicator proves the key works. */
const HEALTH_INDICATOR_ID = '2';
const MAX_SHOWN_ERROR = 300;

function isSuccess(response: UpstreamResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

function failure(response: UpstreamResponse): RelayError {
  // 403 is Pulsedive refusing the key, as 401 is; 429, 5xx and the rest keep the core's meaning.
  return statusError(response, DISPLAY_NAME, { 403: 'authorization error' });
}

/** An `error` Pulsedive answered instead of data, as the contract's error; the key never shown. */
export function answerError(text: string, key: string): RelayError {
  if (/api.?key|unauthori[sz]ed|not authori[sz]ed/i.test(text)) return authorizationError(`Authorization failed on ${DISPLAY_NAME} side`);
  if (/rate.?limit|too many|limit (?:reached|exceeded)|quota/i.test(text)) return tooManyRequests(DISPLAY_NAME);
  const shown = key === '' ? text : text.split(key).join('***');
  return new RelayError('unknown', `Unexpected response from ${DISPLAY_NAME}: ${truncate(shown, MAX_SHOWN_ERROR)}`);
}

/** The answer parsed by `parse`, or undefined when Pulsedive knows nothing about the value. */
async function lookup<T>(http: Http, apiUrl: string, call: string, query: Record<string, string>, key: string, parse: (json: unknown) => T): Promise<T | undefined> {
  const response = await http.request({ call, url: upstreamUrl(apiUrl, ['info.php'], query) });
  if (NOTHING_KNOWN.has(response.status)) return undefined;
  if (!isSuccess(response)) throw failure(response);
  const json = parseJson(response, DISPLAY_NAME);
  const error = answerErrorText(json);
  if (error === undefined) return parseAnswer(response, () => parse(json));
  if (isNotFoundError(error)) return undefined;
  throw answerError(error, key);
}

export async function fetchInfo(http: Http, apiUrl: string, key: string, value: string): Promise<InfoAnswer | undefined> {
  return lookup(http, apiUrl, 'info', { indicator: value, key }, key, parseInfoAnswer);
}

export async function fetchLinks(http: Http, apiUrl: string, key: string, value: string): Promise<LinksAnswer | undefined> {
  return lookup(http, apiUrl, 'links', { indicator: value, key, get: 'links' }, key, parseLinksAnswer);
}

export async function checkHealth(http: Http, apiUrl: string, key: string): Promise<void> {
  const response = await http.request({ call: 'health', url: upstreamUrl(apiUrl, ['info.php'], { iid: HEALTH_INDICATOR_ID, key }) });
  if (!isSuccess(response)) throw failure(response);
  const error = answerErrorText(parseJson(response, DISPLAY_NAME));
  if (error === undefined) return;
  if (isNotFoundError(error)) {
    throw new RelayError('not found', `${DISPLAY_NAME} does not know the indicator its health check reads (iid ${HEALTH_INDICATOR_ID}).`);
  }
  throw answerError(error, key);
}
