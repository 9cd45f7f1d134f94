// The request body of deliberate/observe/refer: parsed, validated, filtered and de-duplicated.
import { invalidPayload } from './errors.js';
import { isObservableType, isValidObservable, type ObservableType } from './validators.js';

export interface Observable {
  type: ObservableType;
  value: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Raw body bytes → JSON, or the contract's `invalid argument`. */
export function parseJsonBody(body: unknown): unknown {
  if (body === undefined || body === null) throw invalidPayload('The request body is empty.');
  let text: string;
  if (Buffer.isBuffer(body)) {
    try {
      text = decoder.decode(body);
    } catch {
      throw invalidPayload('The request body is not valid UTF-8.');
    }
  } else if (typeof body === 'string') {
    text = body;
  } else {
    return body;
  }
  if (text.trim() === '') throw invalidPayload('The request body is empty.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidPayload('The request body is not valid JSON.');
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Checks the shape strictly (every item `{type, value}`, both non-empty strings), then keeps the
 * supported, valid, first-seen observables. Types are compared lower-cased.
 */
export function parseObservables(
  json: unknown,
  supportedTypes: readonly ObservableType[],
  maxObservables: number,
): Observable[] {
  if (!Array.isArray(json)) throw invalidPayload(`Expected a list of observables, got ${describe(json)}.`);
  if (json.length > maxObservables) {
    throw invalidPayload(`Too many observables: ${json.length}; at most ${maxObservables} are accepted in one request.`);
  }
  const problems: string[] = [];
  json.forEach((item: unknown, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${index}: expected an object, got ${describe(item)}`);
      return;
    }
    for (const field of ['type', 'value'] as const) {
      const value = (item as Record<string, unknown>)[field];
      if (value === undefined) problems.push(`${index}.${field}: Missing data for required field.`);
      else if (typeof value !== 'string') problems.push(`${index}.${field}: Not a valid string.`);
      else if (value === '') problems.push(`${index}.${field}: Field may not be blank.`);
    }
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ');
    throw invalidPayload(problems.length > 10 ? `${shown}; and ${problems.length - 10} more.` : `${shown}.`);
  }

  const supported = new Set<string>(supportedTypes);
  const seen = new Set<string>();
  const out: Observable[] = [];
  for (const item of json as { type: string; value: string }[]) {
    const type = item.type.toLowerCase();
    if (!isObservableType(type) || !supported.has(type)) continue;
    if (!isValidObservable(type, item.value)) continue;
    const key = `${type}\u0000${item.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type, value: item.value });
  }
  return out;
}
