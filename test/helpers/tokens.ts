// Tokens for tests: HS256 with a shared secret, RS256 with a generated key pair whose public
// key a local JWKS endpoint serves.
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TEST_SECRET = 'test-secret-key-0123456789abcdef0123456789abcdef';

export async function hs256Token(payload: JWTPayload, secret = TEST_SECRET, claims: { exp?: number | string; nbf?: number | string } = {}): Promise<string> {
  let jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  if (claims.nbf !== undefined) jwt = jwt.setNotBefore(claims.nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

/**
 * A module's token as `ctr-relay jwt --provider <id>` makes it: the credentials and the `provider`
 * claim that binds it to its module (required on a relay with several modules mounted).
 */
export function moduleToken(moduleId: string, credentials: JWTPayload, secret = TEST_SECRET): Promise<string> {
  return hs256Token({ ...credentials, provider: moduleId }, secret);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface JwksServer {
  url: string;
  hits: number;
  sign(payload: JWTPayload, options?: { kid?: string; exp?: number | string }): Promise<string>;
  publicJwk: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startJwksServer(kid = 'test-kid'): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const state = { hits: 0 };
  const server: Server = createServer((_request, response) => {
    state.hits += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks`,
    get hits() {
      return state.hits;
    },
    publicJwk,
    async sign(payload, options = {}) {
      let jwt = new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? kid });
      if (options.exp !== undefined) jwt = jwt.setExpirationTime(options.exp);
      return jwt.sign(privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
