// What one incoming request may cost, across its observables and, when it fans out, across the
// providers it asks: upstream calls, CTIM entities and answer bytes. One RequestBudget is made per
// incoming request (lookup() makes one when its caller did not) and passed to every lookup() of
// that request through LookupOptions. When a budget runs out, what is done is kept, no more work
// is started, and the answer says what was not looked up (see budgetError()).
//
// A SharedBudget (admission.ts holds the relay's one) is drawn from by every request at once: the
// answer bytes all in-flight requests hold together, so that many requests at their own budget
// cannot add up to more than the heap holds.
import { ByteGate, ObservableHold, type RequestHold } from './byte-gate.js';
import { RelayError } from './errors.js';
import { jsonLength } from './json-length.js';
import type { Settings } from './settings.js';

export type BudgetName = 'upstream calls' | 'entities' | 'answer bytes';

/** The answer bytes held by every in-flight request together (admission.ts). */
export interface SharedBudget {
  readonly maxAnswerBytes: number;
  answerBytes: number;
  upstreamCallsPending: number;
  /** The upstream answers held by observables still being looked up, across requests (byte-gate.ts). */
  readonly upstreamBytes: ByteGate;
}

/** The RelayError a budget's exhaustion is reported with; the observables it cut off are counted at the end. */
export class BudgetExhausted extends RelayError {
  constructor(
    readonly budget: BudgetName,
    readonly limit: number,
    readonly setting: string,
    readonly shared: boolean,
  ) {
    super('too many requests', 'budget exhausted');
  }
}

type Result = object | readonly unknown[];

/** The entities of one observable's result: its CTIM documents, or its refer links. */
function entitiesOf(result: Result): number {
  if (Array.isArray(result)) return result.length;
  let count = 0;
  for (const value of Object.values(result)) if (Array.isArray(value)) count += value.length;
  return count;
}

export class RequestBudget {
  upstreamCalls = 0;
  entities = 0;
  answerBytes = 0;
  /** Set once a budget ran out: the first one that did. */
  exhausted: BudgetExhausted | undefined;
  private readonly onExhausted = new Set<() => void>();
  private released = false;
  /** The gate this request's upstream answers pass: the relay's shared one, or its own. */
  readonly upstreamBytes: ByteGate;
  /** What this request's observables hold in it now. */
  readonly hold: RequestHold = { held: 0 };

  constructor(
    readonly limits: { upstreamCalls: number; entities: number; answerBytes: number; upstreamBytes: number },
    private readonly shared?: SharedBudget,
  ) {
    this.upstreamBytes = shared?.upstreamBytes ?? new ByteGate(limits.upstreamBytes);
  }

  static fromSettings(
    settings: Pick<Settings, 'REQUEST_MAX_UPSTREAM_CALLS' | 'REQUEST_MAX_ENTITIES' | 'REQUEST_MAX_ANSWER_BYTES' | 'MAX_UPSTREAM_BYTES_IN_FLIGHT'>,
    shared?: SharedBudget,
  ): RequestBudget {
    return new RequestBudget(
      {
        upstreamCalls: settings.REQUEST_MAX_UPSTREAM_CALLS,
        entities: settings.REQUEST_MAX_ENTITIES,
        answerBytes: settings.REQUEST_MAX_ANSWER_BYTES,
        upstreamBytes: settings.MAX_UPSTREAM_BYTES_IN_FLIGHT,
      },
      shared,
    );
  }

  /** One observable's share of the upstream bytes gate. */
  holdForObservable(): ObservableHold {
    return new ObservableHold(this.upstreamBytes, this.hold);
  }

  /** Registers what to stop when a budget runs out (a lookup's remaining work); returns the unwatch. */
  whenExhausted(stop: () => void): () => void {
    if (this.exhausted !== undefined) {
      stop();
      return () => undefined;
    }
    this.onExhausted.add(stop);
    return () => void this.onExhausted.delete(stop);
  }

  private exhaust(error: BudgetExhausted): BudgetExhausted {
    if (this.exhausted === undefined) {
      this.exhausted = error;
      for (const stop of [...this.onExhausted]) stop();
      this.onExhausted.clear();
    }
    return this.exhausted;
  }

  /** One upstream call (or cache hit: a warm cache makes no answer larger); throws once the budget is spent. */
  takeCall(): void {
    if (this.exhausted !== undefined) throw this.exhausted;
    if (this.upstreamCalls >= this.limits.upstreamCalls) {
      throw this.exhaust(new BudgetExhausted('upstream calls', this.limits.upstreamCalls, 'REQUEST_MAX_UPSTREAM_CALLS', false));
    }
    this.upstreamCalls += 1;
  }

  /** For the shared count of calls not finished yet (admission reads it). */
  callStarted(): void {
    if (this.shared !== undefined) this.shared.upstreamCallsPending += 1;
  }

  callEnded(): void {
    if (this.shared !== undefined) this.shared.upstreamCallsPending -= 1;
  }

  /**
   * One observable's result, before it joins the answer: its entities and its bytes (the length
   * of its JSON, measured without serialising it) are counted. Throws (and stops the request's
   * remaining work) when it does not fit; the result is then left out.
   */
  admitResult(result: Result): void {
    // Out of calls, what is done still joins the answer; out of entities or bytes, nothing more does.
    if (this.exhausted !== undefined && this.exhausted.budget !== 'upstream calls') throw this.exhausted;
    const entities = entitiesOf(result);
    if (entities === 0) return;
    if (this.entities + entities > this.limits.entities) {
      throw this.exhaust(new BudgetExhausted('entities', this.limits.entities, 'REQUEST_MAX_ENTITIES', false));
    }
    const bytes = jsonLength(result) ?? 0;
    if (this.answerBytes + bytes > this.limits.answerBytes) {
      throw this.exhaust(new BudgetExhausted('answer bytes', this.limits.answerBytes, 'REQUEST_MAX_ANSWER_BYTES', false));
    }
    const shared = this.shared;
    if (shared !== undefined && !this.released) {
      if (shared.answerBytes + bytes > shared.maxAnswerBytes) {
        throw this.exhaust(new BudgetExhausted('answer bytes', shared.maxAnswerBytes, 'MAX_ANSWER_BYTES_IN_FLIGHT', true));
      }
      shared.answerBytes += bytes;
    }
    this.entities += entities;
    this.answerBytes += bytes;
  }

  /** Once the answer is written (or its caller gone): its bytes go back to the shared budget. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.shared !== undefined) this.shared.answerBytes -= this.answerBytes;
  }
}

/**
 * The error an answer carries when a budget ran out: names the budget and its setting, and how
 * many observables were not looked up (or left out of the answer).
 */
export function budgetError(exhausted: BudgetExhausted, notLookedUp: number, providerName: string): RelayError {
  const what =
    exhausted.budget === 'upstream calls'
      ? `upstream calls`
      : exhausted.budget === 'entities'
        ? `CTIM entities`
        : `answer bytes`;
  const whose = exhausted.shared ? `The relay's budget of ${exhausted.limit} ${what} for all requests in flight` : `The request's budget of ${exhausted.limit} ${what}`;
  const left = `${notLookedUp} observable${notLookedUp === 1 ? ' was' : 's were'} not looked up on ${providerName}`;
  return new RelayError('too many requests', `${whose} (${exhausted.setting}) ran out; ${left}.`);
}
