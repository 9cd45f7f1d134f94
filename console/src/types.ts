// The shapes of the relay's answers the console reads (the enrichment API and the session
// endpoints). No DOM here, so the pure parts of the console can be tested under Node.

export interface ObservableRef {
  type: string;
  value: string;
}

export interface WithheldObservable extends ObservableRef {
  reason: string;
}

export interface CredentialField {
  name: string;
  secret: boolean;
}

export interface ProviderInfo {
  id: string;
  name: string;
  types: string[];
  credentials: CredentialField[];
}

export interface ErrorDocument {
  type?: string;
  code: string;
  message: string;
}

export interface ConsensusVerdict {
  disposition: number;
  disposition_name: string;
  malicious: number;
  suspicious: number;
  clean: number;
  unknown: number;
  answered: number;
}

export interface CtimDocs {
  count: number;
  docs: Record<string, unknown>[];
}

export interface ProviderResult {
  id: string;
  name: string;
  status: 'ok' | 'error' | 'skipped';
  verdict?: { disposition: number; disposition_name: string };
  counts?: Record<string, number>;
  titles?: string[];
  first_seen?: string;
  last_seen?: string;
  links?: { title: string; url: string }[];
  ctim?: Partial<Record<'verdicts' | 'judgements' | 'indicators' | 'sightings' | 'relationships', CtimDocs>>;
  error?: { code: string; message: string };
  reason?: string;
}

export interface SessionState {
  signed_in: boolean;
  can_sign_in: boolean;
  reason?: string;
  expired?: boolean;
  expires_at?: string;
  providers: string[];
}

export interface KeyCheck {
  id: string;
  name: string;
  status: 'ok' | 'rejected' | 'unverified';
  error?: { code: string; message: string };
}

export type StreamLine =
  | { observable: ObservableRef; provider: ProviderResult }
  | { observable: ObservableRef; verdict: ConsensusVerdict }
  | { done: true; withheld?: WithheldObservable[] };

