// The relay's HTTP API as the console uses it. Every URL is relative to the page (…/console/),
// so the console works under whatever path prefix an ingress serves the relay at; every request
// carries the console's header, without which the relay refuses the session cookie.

import type { ConsensusVerdict, CredentialField, ErrorDocument, KeyCheck, ObservableRef, ProviderInfo, ProviderResult, SessionState, StreamLine, WithheldObservable } from './types.js';

export type { ConsensusVerdict, ErrorDocument, KeyCheck, ObservableRef, ProviderInfo, ProviderResult, SessionState, StreamLine, WithheldObservable };

export const CONSOLE_HEADERS = { 'X-Requested-By': 'ctr-relay-console' } as const;

/** Raised for an answer carrying the contract's `errors`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

async function call(path: string, init: RequestInit = {}): Promise<{ data?: unknown; errors?: ErrorDocument[] }> {
  const headers: Record<string, string> = { ...CONSOLE_HEADERS, Accept: 'application/json' };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError('unavailable', 'The relay cannot be reached.');
  }
  let body: { data?: unknown; errors?: ErrorDocument[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError('unknown', `The relay answered ${response.status} without a readable body.`);
  }
  return body;
}

function dataOrThrow<T>(body: { data?: unknown; errors?: ErrorDocument[] }): T {
  const first = body.errors?.[0];
  if (first !== undefined) throw new ApiError(first.code, first.message, body.data);
  return body.data as T;
}

/** GET /enrich/providers, whatever of the spec's fields it names (`types`/`supported_types`, `credentials`/`fields`). */
export async function fetchProviders(): Promise<ProviderInfo[]> {
  const data = dataOrThrow<unknown>(await call('../enrich/providers'));
  const list = (Array.isArray(data) ? data : ((data as { providers?: unknown[] } | undefined)?.providers ?? [])) as Record<string, unknown>[];
  return list.map((item) => {
    const fields = (item.credentials ?? item.credential_fields ?? item.fields ?? []) as (CredentialField | string)[];
    return {
      id: String(item.id),
      name: String(item.name ?? item.id),
      types: ((item.types ?? item.supported_types ?? item.supportedTypes ?? []) as string[]).map(String),
      credentials: fields.map((field) => (typeof field === 'string' ? { name: field, secret: true } : { name: field.name, secret: field.secret !== false })),
    };
  });
}

export async function fetchSession(): Promise<SessionState> {
  return dataOrThrow<SessionState>(await call('session'));
}

export async function signIn(keys: Record<string, Record<string, string>>): Promise<{ signed_in: boolean; expires_at?: string; providers: KeyCheck[] }> {
  const body = await call('session', { method: 'POST', body: JSON.stringify(keys) });
  const first = body.errors?.[0];
  if (first !== undefined) throw new ApiError(first.code, first.message, body.data);
  return body.data as { signed_in: boolean; expires_at?: string; providers: KeyCheck[] };
}

export async function signOut(): Promise<void> {
  dataOrThrow(await call('session', { method: 'DELETE' }));
}

export async function inspect(text: string): Promise<{ observables: ObservableRef[]; withheld: WithheldObservable[] }> {
  return dataOrThrow(await call('../enrich/inspect', { method: 'POST', body: JSON.stringify({ text }) }));
}

/**
 * POST /enrich/observables as NDJSON: `onLine` is called for every line as it arrives. An answer
 * that is not a stream (the request was refused) raises its error.
 */
export async function lookupStream(observables: ObservableRef[], onLine: (line: StreamLine) => void, signal?: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch('../enrich/observables', {
      method: 'POST',
      headers: { ...CONSOLE_HEADERS, Accept: 'application/x-ndjson', 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      body: JSON.stringify(observables),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError('unavailable', 'The relay cannot be reached.');
  }
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('ndjson') || response.body === null) {
    const body = (await response.json().catch(() => ({}))) as { errors?: ErrorDocument[] };
    const first = body.errors?.[0];
    throw new ApiError(first?.code ?? 'unknown', first?.message ?? `The relay answered ${response.status} without a stream.`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value !== undefined) buffered += value;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') handleLine(line, onLine);
      newline = buffered.indexOf('\n');
    }
    if (done) break;
  }
  if (buffered.trim() !== '') handleLine(buffered.trim(), onLine);
}

function handleLine(line: string, onLine: (line: StreamLine) => void): void {
  const parsed = JSON.parse(line) as StreamLine & { errors?: ErrorDocument[] };
  const first = parsed.errors?.[0];
  if (first !== undefined) throw new ApiError(first.code, first.message);
  onLine(parsed);
}
