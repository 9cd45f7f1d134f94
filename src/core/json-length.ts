// The length of JSON.stringify(value) without building the string. The request budget counts
// every observable's result in answer bytes (budget.ts); serialising a result only to measure it
// cost as much CPU as this walk, and left a string as large as the result (megabytes for an
// address in 1000 OTX pulses) for the garbage collector each time. Exact for plain data: strings,
// numbers, booleans, null, arrays and plain objects; anything with a toJSON (a Date) is measured
// by JSON.stringify itself.

// What JSON.stringify escapes in a string: quotes, backslashes, control characters, and lone
// surrogates (a valid pair is kept as it is; such strings are measured the slow way).
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function stringLength(value: string): number {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value).length : value.length + 2;
}

/** `JSON.stringify(value)?.length`: undefined where JSON.stringify gives undefined. */
export function jsonLength(value: unknown): number | undefined {
  switch (typeof value) {
    case 'string':
      return stringLength(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function' || value instanceof String || value instanceof Number || value instanceof Boolean) {
        return JSON.stringify(value)?.length;
      }
      if (Array.isArray(value)) {
        let total = 2 + Math.max(0, value.length - 1);
        // An array keeps a slot for what JSON cannot say (undefined, a function): `null`.
        for (const item of value as unknown[]) total += jsonLength(item) ?? 4;
        return total;
      }
      let total = 2;
      let first = true;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        const length = jsonLength((value as Record<string, unknown>)[key]);
        // An object leaves such properties out.
        if (length === undefined) continue;
        total += (first ? 0 : 1) + stringLength(key) + 1 + length;
        first = false;
      }
      return total;
    }
    default:
      // undefined, functions, symbols; a bigint, which JSON.stringify refuses, never reaches an answer.
      return undefined;
  }
}
