// Which connections the main thread answers itself: those whose first request is a liveness probe
// (GET or HEAD /healthz). It reads no more than the request line to tell; anything else, or a
// line it cannot read, goes to the relay's thread, whose HTTP server gives the contract's errors.

/** Longest request line read before handing the connection over as it is. */
export const MAX_FIRST_LINE_BYTES = 2048;

const PROBE_STARTS = ['GET /healthz', 'HEAD /healthz'];
const PROBE_LINE = /^(GET|HEAD) (\/healthz\/*(?:\?[^ ]*)?) HTTP\/1\.[01]\r?$/;

/** `probe`: answered by the front; `relay`: the relay's thread; `more`: not known until more bytes come. */
export function firstRequestKind(head: Buffer): 'probe' | 'relay' | 'more' {
  const start = head.toString('latin1', 0, 13);
  if (!PROBE_STARTS.some((probe) => probe.startsWith(start) || start.startsWith(probe))) return 'relay';
  const end = head.indexOf(10);
  if (end === -1) return head.length >= MAX_FIRST_LINE_BYTES ? 'relay' : 'more';
  return PROBE_LINE.test(head.toString('latin1', 0, end)) ? 'probe' : 'relay';
}
