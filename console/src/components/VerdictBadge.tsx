// The consensus verdict: colour, a symbol and the word (colour is never the only signal), and how
// many of the providers that answered agree.
import type { ConsensusVerdict } from '../api.js';
import { agreementText, dispositionSlug } from '../results.js';

export const VERDICT_SYMBOL: Record<string, string> = { malicious: '✖', suspicious: '!', clean: '✔', unknown: '?', pending: '…' };

export function VerdictBadge({ verdict }: { verdict: ConsensusVerdict | undefined }) {
  const slug = verdict === undefined ? 'pending' : dispositionSlug(verdict.disposition_name);
  const name = verdict?.disposition_name ?? 'Pending';
  return (
    <span class="verdict">
      <span class={`badge badge-${slug}`} data-verdict={slug}>
        <span aria-hidden="true">{VERDICT_SYMBOL[slug]} </span>
        {name}
      </span>
      <span class="agreement">{agreementText(verdict)}</span>
    </span>
  );
}
