// Admission control: a bound on the work all requests in flight hold together, and on each
// client's share of it. Beyond a bound a request is answered at once (the contract's
// `too many requests`, HTTP 200, with Retry-After) instead of queueing work until the heap gives
// out. /healthz and /readyz never pass through here.
import { RequestBudget, type SharedBudget } from './budget.js';
import { ByteGate } from './byte-gate.js';
import { RelayError } from './errors.js';
import { REFUSE_AT, heapUsed } from './heap-pressure.js';
import type { Settings } from './settings.js';

type AdmissionSettings = Pick<
  Settings,
  | 'MAX_ANSWER_BYTES_IN_FLIGHT'
  | 'MAX_UPSTREAM_CALLS_IN_FLIGHT'
  | 'MAX_REQUESTS_IN_FLIGHT'
  | 'MAX_REQUESTS_PER_CLIENT'
  | 'REQUEST_MAX_UPSTREAM_CALLS'
  | 'REQUEST_MAX_ENTITIES'
  | 'REQUEST_MAX_ANSWER_BYTES'
  | 'MAX_UPSTREAM_BYTES_IN_FLIGHT'
>;

/** Seconds a refused caller is asked to wait: requests in flight end within their deadline, most far sooner. */
export const ADMISSION_RETRY_AFTER_SECONDS = 1;

/** One admitted request: its budget (drawing on the shared one) and what to call once its answer is written. */
export interface Admitted {
  budget: RequestBudget;
  done(): void;
}

export class Admission implements SharedBudget {
  readonly maxAnswerBytes: number;
  answerBytes = 0;
  upstreamCallsPending = 0;
  requestsInFlight = 0;
  readonly upstreamBytes: ByteGate;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly settings: AdmissionSettings) {
    this.maxAnswerBytes = settings.MAX_ANSWER_BYTES_IN_FLIGHT;
    this.upstreamBytes = new ByteGate(settings.MAX_UPSTREAM_BYTES_IN_FLIGHT);
  }

  /** Requests in flight of one client (a credential's hash, or `ip:<address>`). */
  clientRequests(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  /** Admits a request of `client`, or throws the `too many requests` error saying which bound it met. */
  admit(client: string): Admitted {
    const { settings } = this;
    const refused = this.refusal(client);
    if (refused !== undefined) throw new RelayError('too many requests', refused, { retryAfterSeconds: ADMISSION_RETRY_AFTER_SECONDS });
    this.requestsInFlight += 1;
    this.perClient.set(client, this.clientRequests(client) + 1);
    const budget = RequestBudget.fromSettings(settings, this);
    let done = false;
    return {
      budget,
      done: () => {
        if (done) return;
        done = true;
        budget.release();
        this.requestsInFlight -= 1;
        const left = this.clientRequests(client) - 1;
        if (left <= 0) this.perClient.delete(client);
        else this.perClient.set(client, left);
      },
    };
  }

  private refusal(client: string): string | undefined {
    const { settings } = this;
    const again = 'Please, try again later.';
    if (this.clientRequests(client) >= settings.MAX_REQUESTS_PER_CLIENT) {
      return `Too many requests of this client are in flight (at most ${settings.MAX_REQUESTS_PER_CLIENT}, MAX_REQUESTS_PER_CLIENT). ${again}`;
    }
    if (this.requestsInFlight >= settings.MAX_REQUESTS_IN_FLIGHT) {
      return `The relay is busy: ${this.requestsInFlight} requests are in flight (at most ${settings.MAX_REQUESTS_IN_FLIGHT}, MAX_REQUESTS_IN_FLIGHT). ${again}`;
    }
    if (this.upstreamCallsPending >= settings.MAX_UPSTREAM_CALLS_IN_FLIGHT) {
      return `The relay is busy: ${this.upstreamCallsPending} upstream calls are in flight (at most ${settings.MAX_UPSTREAM_CALLS_IN_FLIGHT}, MAX_UPSTREAM_CALLS_IN_FLIGHT). ${again}`;
    }
    const heap = heapUsed();
    if (heap >= REFUSE_AT) return `The relay is busy: its heap is ${Math.round(heap * 100)}% full. ${again}`;
    // Three quarters: room for the requests already admitted to finish what they started.
    if (this.answerBytes >= this.maxAnswerBytes * 0.75) {
      return `The relay is busy: answers in flight hold ${this.answerBytes} bytes (at most ${this.maxAnswerBytes}, MAX_ANSWER_BYTES_IN_FLIGHT). ${again}`;
    }
    return undefined;
  }
}
