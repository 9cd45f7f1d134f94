// The console: the session (sign in / out), the text box and its extracted observables, the
// results as they stream in, and the exports.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  fetchProviders,
  fetchSession,
  inspect,
  lookupStream,
  signIn,
  signOut,
  type KeyCheck,
  type ObservableRef,
  type ProviderInfo,
  type SessionState,
  type WithheldObservable,
} from '../api.js';
import {
  VERDICTS,
  applyLine,
  emptyResults,
  filterRows,
  observableKey,
  sortRows,
  summaryText,
  toAnswer,
  toCsv,
  verdictSummary,
  type ResultRow,
  type Results,
  type SortKey,
  type VerdictName,
} from '../results.js';
import { ObservableChips } from './ObservableChips.js';
import { ResultsTable } from './ResultsTable.js';
import { SignInForm } from './SignInForm.js';

interface Notice {
  kind: 'error' | 'info' | 'expired';
  text: string;
}

function download(name: string, type: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const stamp = () => new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function App() {
  const [providers, setProviders] = useState<ProviderInfo[] | undefined>();
  const [session, setSession] = useState<SessionState | undefined>();
  const [notice, setNotice] = useState<Notice | undefined>();
  const [checks, setChecks] = useState<KeyCheck[]>([]);
  const [busy, setBusy] = useState(false);
  const [text, setText] = useState('');
  const [extracted, setExtracted] = useState<{ observables: ObservableRef[]; withheld: WithheldObservable[] } | undefined>();
  const [removed, setRemoved] = useState<ReadonlySet<string>>(new Set());
  const [results, setResults] = useState<Results | undefined>();
  const [running, setRunning] = useState(false);
  const [sort, setSort] = useState<SortKey>('verdict');
  const [shown, setShown] = useState<ReadonlySet<VerdictName>>(new Set(VERDICTS));
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [status, setStatus] = useState('');
  const inspectTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const inspected = useRef<Promise<unknown> | undefined>(undefined);
  const inspectedText = useRef<string | undefined>(undefined);
  const lookupAbort = useRef<AbortController | undefined>(undefined);

  const refreshSession = useCallback(async () => {
    try {
      const state = await fetchSession();
      setSession(state);
      if (state.expired) setNotice({ kind: 'expired', text: 'Your session has expired. Sign in again to look up with your keys.' });
      return state;
    } catch (error) {
      setNotice({ kind: 'error', text: message(error) });
      return undefined;
    }
  }, []);

  useEffect(() => {
    void refreshSession();
    fetchProviders().then(setProviders, (error) => setNotice({ kind: 'error', text: `The providers cannot be listed: ${message(error)}` }));
  }, [refreshSession]);

  // When the session ends while the page is open, say so at once rather than at the next lookup.
  useEffect(() => {
    if (session?.expires_at === undefined) return undefined;
    const left = new Date(session.expires_at).getTime() - Date.now();
    const timer = setTimeout(() => void refreshSession(), Math.max(0, Math.min(left + 1000, 2 ** 31 - 1)));
    return () => clearTimeout(timer);
  }, [session?.expires_at, refreshSession]);

  const runInspect = useCallback((value: string) => {
    if (value.trim() === '') {
      setExtracted(undefined);
      inspected.current = undefined;
      return;
    }
    // Removed chips stay removed while the text is edited around them.
    const work = inspect(value).then(
      (data) => {
        setExtracted(data);
        return data;
      },
      (error) => {
        setNotice({ kind: 'error', text: `The text cannot be read: ${message(error)}` });
        return undefined;
      },
    );
    inspected.current = work;
    inspectedText.current = value;
  }, []);

  const onText = (value: string) => {
    setText(value);
    clearTimeout(inspectTimer.current);
    inspectTimer.current = setTimeout(() => runInspect(value), 250);
  };

  const lookUp = useCallback(
    async (observables: ObservableRef[], withheld: WithheldObservable[] = []) => {
      if (observables.length === 0) {
        setStatus('Nothing to look up.');
        return;
      }
      lookupAbort.current?.abort();
      const abort = new AbortController();
      lookupAbort.current = abort;
      let current = { ...emptyResults(observables, providers ?? []), withheld };
      setResults(current);
      setExpanded(new Set());
      setRunning(true);
      setNotice(undefined);
      setStatus(`Looking up ${observables.length} observable${observables.length === 1 ? '' : 's'}…`);
      // Lines are applied as they arrive, but rendered at most once a frame: a long list answers
      // hundreds of lines a second.
      let frame: number | undefined;
      const flush = () => {
        frame = undefined;
        setResults(current);
      };
      try {
        await lookupStream(
          observables,
          (line) => {
            current = applyLine(current, line);
            // The first line is shown at once; later ones are batched per frame.
            if (frame === undefined) frame = requestAnimationFrame(flush);
          },
          abort.signal,
        );
        if (frame !== undefined) cancelAnimationFrame(frame);
        setResults(current);
        setStatus(`Done. ${summaryText(current.rows)}.`);
      } catch (error) {
        if ((error as Error).name === 'AbortError') return;
        if (frame !== undefined) cancelAnimationFrame(frame);
        setResults(current);
        if (error instanceof ApiError && error.code === 'authorization error') {
          const state = await refreshSession();
          if (state?.expired !== true) setNotice({ kind: 'error', text: error.message });
        } else {
          setNotice({ kind: 'error', text: `The lookup failed: ${message(error)}` });
        }
        setStatus('The lookup failed.');
      } finally {
        if (lookupAbort.current === abort) setRunning(false);
      }
    },
    [providers, refreshSession],
  );

  const onLookup = async (event: Event) => {
    event.preventDefault();
    clearTimeout(inspectTimer.current);
    let found = extracted;
    if (text.trim() !== '') {
      if (inspectedText.current !== text) runInspect(text);
      found = (await inspected.current) as typeof extracted;
    }
    if (found === undefined) return;
    await lookUp(
      found.observables.filter((observable) => !removed.has(observableKey(observable))),
      found.withheld,
    );
  };

  const onPivot = useCallback(
    (observable: ObservableRef) => {
      setText(observable.value);
      setExtracted({ observables: [observable], withheld: [] });
      setRemoved(new Set());
      void lookUp([observable]);
      document.getElementById('lookup-text')?.scrollIntoView?.({ block: 'start' });
    },
    [lookUp],
  );

  const onSignIn = async (keys: Record<string, Record<string, string>>) => {
    setBusy(true);
    setNotice(undefined);
    try {
      const answer = await signIn(keys);
      setChecks(answer.providers);
      await refreshSession();
      const unverified = answer.providers.filter((check) => check.status === 'unverified').map((check) => check.name);
      setStatus(`Signed in.${unverified.length > 0 ? ` Not checked: ${unverified.join(', ')}.` : ''}`);
      return true;
    } catch (error) {
      if (error instanceof ApiError) {
        const data = error.data as { providers?: KeyCheck[] } | undefined;
        setChecks(data?.providers ?? []);
      }
      setNotice({ kind: 'error', text: message(error) });
      return false;
    } finally {
      setBusy(false);
    }
  };

  const onSignOut = async () => {
    try {
      await signOut();
    } catch (error) {
      setNotice({ kind: 'error', text: message(error) });
    }
    lookupAbort.current?.abort();
    setResults(undefined);
    setChecks([]);
    await refreshSession();
    setNotice({ kind: 'info', text: 'Signed out. Your keys are gone from this browser.' });
  };

  const onCopy = async (row: ResultRow) => {
    const summary = verdictSummary(row);
    try {
      await navigator.clipboard.writeText(summary);
      setStatus(`Copied: ${summary}`);
    } catch {
      setStatus(`Copy this: ${summary}`);
    }
  };

  const rows = useMemo(() => (results === undefined ? [] : sortRows(filterRows(results.rows, shown), sort)), [results, shown, sort]);
  const columns = useMemo(() => {
    const seen = new Map<string, { id: string; name: string }>();
    for (const provider of providers ?? []) seen.set(provider.id, { id: provider.id, name: provider.name });
    for (const row of results?.rows ?? []) for (const provider of row.providers) if (!seen.has(provider.id)) seen.set(provider.id, provider);
    return [...seen.values()];
  }, [providers, results]);

  const visible = extracted?.observables.filter((observable) => !removed.has(observableKey(observable))) ?? [];
  const signedInNames = (session?.providers ?? []).map((id) => providers?.find((provider) => provider.id === id)?.name ?? id);

  return (
    <>
      <header class="top">
        <h1>ctr-relay console</h1>
        {session?.signed_in ? (
          <div class="session" data-state="signed-in">
            <span>
              Signed in ({signedInNames.join(', ') || 'no keys'}), until <time dateTime={session.expires_at}>{new Date(session.expires_at ?? '').toLocaleString()}</time>
            </span>{' '}
            <button type="button" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main>
        {notice !== undefined ? (
          <div class={`notice notice-${notice.kind}`} role="alert" data-notice={notice.kind}>
            {notice.text}
          </div>
        ) : null}
        {session === undefined || providers === undefined ? (
          <p class="muted">Loading…</p>
        ) : session.signed_in ? null : (
          <SignInForm providers={providers} session={session} checks={checks} busy={busy} onSubmit={onSignIn} />
        )}

        <section class="panel" aria-labelledby="lookup-title">
          <h2 id="lookup-title">Look up</h2>
          {session !== undefined && !session.signed_in ? (
            <p class="muted" id="lookup-needs-session">
              Sign in to look up: every lookup uses your keys. The observables found in the text are shown already.
            </p>
          ) : null}
          <form onSubmit={onLookup}>
            <label for="lookup-text">Paste anything: a list, an e-mail, a ticket, a report (defanged indicators are fine)</label>
            <textarea id="lookup-text" rows={6} value={text} spellcheck={false} onInput={(event) => onText((event.target as HTMLTextAreaElement).value)} />
            {extracted !== undefined ? (
              <ObservableChips
                observables={visible}
                withheld={extracted.withheld}
                onRemove={(observable) => setRemoved(new Set([...removed, observableKey(observable)]))}
              />
            ) : null}
            <button type="submit" class="primary" disabled={running || text.trim() === '' || session?.signed_in !== true}>
              {running ? 'Looking up…' : `Look up${extracted === undefined ? '' : ` ${visible.length}`}`}
            </button>
          </form>
        </section>

        <p class="visually-hidden" role="status" aria-live="polite" id="status">
          {status}
        </p>

        {results !== undefined ? (
          <section class="panel" aria-labelledby="results-title">
            <h2 id="results-title">Results</h2>
            <p class="summary" id="summary">
              {summaryText(results.rows)}
              {results.done ? '' : ' (still answering…)'}
            </p>
            <div class="toolbar">
              <label>
                Sort by{' '}
                <select value={sort} onChange={(event) => setSort((event.target as HTMLSelectElement).value as SortKey)} id="sort">
                  <option value="verdict">verdict (most severe first)</option>
                  <option value="order">order pasted</option>
                  <option value="observable">observable</option>
                  <option value="last_seen">last seen (newest first)</option>
                </select>
              </label>
              <fieldset class="filter">
                <legend>Show</legend>
                {VERDICTS.map((name) => (
                  <label key={name}>
                    <input
                      type="checkbox"
                      name="show"
                      value={name}
                      checked={shown.has(name)}
                      onChange={(event) => {
                        const next = new Set(shown);
                        if ((event.target as HTMLInputElement).checked) next.add(name);
                        else next.delete(name);
                        setShown(next);
                      }}
                    />{' '}
                    {name}
                  </label>
                ))}
              </fieldset>
              <div class="exports">
                <button type="button" onClick={() => download(`ctr-relay-${stamp()}.csv`, 'text/csv', toCsv(rows, columns))}>
                  Export CSV
                </button>
                <button type="button" onClick={() => download(`ctr-relay-${stamp()}.json`, 'application/json', JSON.stringify(toAnswer(results), null, 2))}>
                  Export JSON
                </button>
              </div>
            </div>
            {results.withheld.length > 0 ? (
              <p class="muted">
                Withheld (never sent): {results.withheld.map((observable) => `${observable.value} (${observable.reason})`).join(', ')}
              </p>
            ) : null}
            <ResultsTable
              rows={rows}
              expanded={expanded}
              onToggle={(key) => {
                const next = new Set(expanded);
                if (next.has(key)) next.delete(key);
                else next.add(key);
                setExpanded(next);
              }}
              onCopy={onCopy}
              onPivot={onPivot}
            />
          </section>
        ) : null}
      </main>
    </>
  );
}
