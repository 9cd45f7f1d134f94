// Which observables of a lookup failed, and with which error: so that a partial answer says which
// ones (in each error document and in the request's summary line), not only that some did.
import { MAX_ERROR_OBSERVABLES, toRelayError, type ErrorDocument, type FailedObservable, type RelayError } from './errors.js';
import type { Observable } from './observables.js';

/** Longer values are cut in the log line (the answer lists them whole). */
const MAX_LOGGED_VALUE = 200;

/**
 * Watches the per-observable work of one lookup. An observable whose work did not succeed failed
 * with its own error or, when it was still running (or waiting) at the deadline, the deadline's.
 */
export class ObservableFailures {
  private readonly succeeded = new Set<Observable>();
  private readonly failed = new Map<Observable, RelayError>();
  private cut: RelayError | undefined;

  /** The work's outcome, remembered; a failure as the RelayError the answer will carry. */
  watch<T>(observable: Observable, work: Promise<T>): Promise<T> {
    return work.then(
      (value) => {
        this.succeeded.add(observable);
        return value;
      },
      (error: unknown) => {
        const relayError = toRelayError(error);
        this.failed.set(observable, relayError);
        throw relayError;
      },
    );
  }

  /** `onDeadline` for settleAll, remembering the error it made. */
  deadline(onDeadline: () => RelayError): () => RelayError {
    return () => (this.cut ??= onDeadline());
  }

  /** For uniqueErrors, once the work is settled: the observables each error object stands for. */
  observablesOf(observables: readonly Observable[]): (error: RelayError) => readonly FailedObservable[] | undefined {
    const byError = new Map<RelayError, FailedObservable[]>();
    for (const observable of observables) {
      if (this.succeeded.has(observable)) continue;
      const error = this.failed.get(observable) ?? this.cut;
      if (error === undefined) continue;
      let list = byError.get(error);
      if (list === undefined) byError.set(error, (list = []));
      list.push({ type: observable.type, value: observable.value });
    }
    return (error) => byError.get(error);
  }
}

export interface FailedObservablesSummary {
  /** The first MAX_ERROR_OBSERVABLES failed observables with the code each failed with. */
  failedObservables: (FailedObservable & { code: string })[];
  failedObservablesCount: number;
}

/** For the request's summary line: which observables failed, bounded, values cut to a sane length. */
export function summariseFailedObservables(errors: readonly ErrorDocument[] | undefined): FailedObservablesSummary | undefined {
  if (errors === undefined) return undefined;
  const failedObservables: FailedObservablesSummary['failedObservables'] = [];
  let failedObservablesCount = 0;
  for (const error of errors) {
    failedObservablesCount += error.observablesCount ?? 0;
    for (const observable of error.observables ?? []) {
      if (failedObservables.length >= MAX_ERROR_OBSERVABLES) break;
      const value = observable.value.length <= MAX_LOGGED_VALUE ? observable.value : `${observable.value.slice(0, MAX_LOGGED_VALUE - 1)}…`;
      failedObservables.push({ type: observable.type, value, code: error.code });
    }
  }
  return failedObservablesCount === 0 ? undefined : { failedObservables, failedObservablesCount };
}

/** The contract's bare `{type, code, message}` (ERROR_OBSERVABLES=off). */
export function withoutObservables(errors: readonly ErrorDocument[]): ErrorDocument[] {
  return errors.map(({ type, code, message }) => ({ type, code, message }));
}
