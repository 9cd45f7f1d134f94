// One provider's part in a row: pending, its verdict, its error (with the message), or skipped.
import type { ProviderResult } from '../api.js';
import { dispositionSlug } from '../results.js';
import { VERDICT_SYMBOL } from './VerdictBadge.js';

export function ProviderChip({ name, result }: { name: string; result: ProviderResult | undefined }) {
  if (result === undefined) {
    return (
      <span class="chip chip-pending" data-status="pending">
        <span aria-hidden="true">… </span>
        {name}: pending
      </span>
    );
  }
  if (result.status === 'error') {
    const message = result.error?.message ?? result.error?.code ?? 'failed';
    return (
      <span class="chip chip-error" data-status="error" title={result.error?.code}>
        <span aria-hidden="true">⚠ </span>
        {name}: error: {message}
      </span>
    );
  }
  if (result.status === 'skipped') {
    return (
      <span class="chip chip-skipped" data-status="skipped">
        <span aria-hidden="true">– </span>
        {name}: skipped ({result.reason ?? 'not asked'})
      </span>
    );
  }
  const slug = result.verdict === undefined ? 'unknown' : dispositionSlug(result.verdict.disposition_name);
  return (
    <span class={`chip chip-${slug}`} data-status="ok" data-verdict={slug}>
      <span aria-hidden="true">{VERDICT_SYMBOL[slug]} </span>
      {name}: {result.verdict?.disposition_name ?? 'no verdict'}
    </span>
  );
}
