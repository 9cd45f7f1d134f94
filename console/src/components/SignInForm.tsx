// Sign in with your own keys: the credential fields of every mounted provider that takes keys.
// The keys go to the relay once, which checks each with the provider and seals them into an
// HttpOnly cookie: this page never holds them afterwards (the fields are cleared).
import { useState } from 'preact/hooks';
import type { KeyCheck, ProviderInfo, SessionState } from '../api.js';

interface Props {
  providers: ProviderInfo[];
  session: SessionState;
  checks: KeyCheck[];
  busy: boolean;
  onSubmit: (keys: Record<string, Record<string, string>>) => Promise<boolean>;
}

const FIELD_LABELS: Record<string, string> = { key: 'API key', password: 'API password' };

export function SignInForm({ providers, session, checks, busy, onSubmit }: Props) {
  const [values, setValues] = useState<Record<string, string>>({});
  const keyed = providers.filter((provider) => provider.credentials.length > 0);
  const keyless = providers.filter((provider) => provider.credentials.length === 0);
  if (!session.can_sign_in) {
    return (
      <section class="panel notice notice-error" aria-labelledby="signin-title" data-state="no-secret">
        <h2 id="signin-title">Signing in is not possible on this relay</h2>
        <p>{session.reason ?? 'This relay has no SECRET_KEY, so it cannot seal a session.'}</p>
      </section>
    );
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    const keys: Record<string, Record<string, string>> = {};
    for (const provider of keyed) {
      const fields = Object.fromEntries(provider.credentials.map((field) => [field.name, (values[`${provider.id}.${field.name}`] ?? '').trim()]));
      if (Object.values(fields).some((value) => value !== '')) keys[provider.id] = fields;
    }
    if (await onSubmit(keys)) setValues({});
  };
  return (
    <section class="panel" aria-labelledby="signin-title" data-state="signed-out">
      <h2 id="signin-title">Sign in with your provider keys</h2>
      <p class="muted">
        Fill in the providers you have keys for. The relay checks each key with its provider, seals them into an encrypted cookie this page cannot
        read, and stores nothing.
        {keyless.length > 0 ? ` ${keyless.map((provider) => provider.name).join(', ')} need${keyless.length === 1 ? 's' : ''} no key.` : ''}
      </p>
      <form onSubmit={submit} class="signin" autocomplete="off">
        {keyed.map((provider) => {
          const check = checks.find((candidate) => candidate.id === provider.id);
          const problemId = `problem-${provider.id}`;
          return (
            <fieldset key={provider.id} data-provider={provider.id} class={check?.status === 'rejected' ? 'rejected' : ''}>
              <legend>{provider.name}</legend>
              {provider.credentials.map((field) => {
                const id = `key-${provider.id}-${field.name}`;
                return (
                  <div class="field" key={field.name}>
                    <label for={id}>
                      {provider.name} {FIELD_LABELS[field.name] ?? field.name}
                    </label>
                    <input
                      id={id}
                      name={`${provider.id}.${field.name}`}
                      type={(field.secret ? 'password' : 'text') as 'text'}
                      autocomplete="off"
                      spellcheck={false}
                      aria-invalid={check?.status === 'rejected' ? 'true' : undefined}
                      aria-describedby={check?.status === 'rejected' || check?.status === 'unverified' ? problemId : undefined}
                      value={values[`${provider.id}.${field.name}`] ?? ''}
                      onInput={(event) => setValues({ ...values, [`${provider.id}.${field.name}`]: (event.target as HTMLInputElement).value })}
                    />
                  </div>
                );
              })}
              {check?.status === 'rejected' ? (
                <p class="problem" id={problemId} data-check="rejected">
                  <span aria-hidden="true">✖ </span>Rejected by {provider.name}: {check.error?.message}
                </p>
              ) : null}
              {check?.status === 'unverified' ? (
                <p class="warning" id={problemId} data-check="unverified">
                  <span aria-hidden="true">! </span>Not checked ({provider.name} could not be asked): {check.error?.message}
                </p>
              ) : null}
            </fieldset>
          );
        })}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking keys…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
