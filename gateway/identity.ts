// Identity at the gateway (see docs/architecture.md, "Identity"):
// - keys: tokens carry `kid`; the verification key is the static public key when the kid is its own (or absent),
//   else the members service's JWKS (fetched, cached, refetched on an unknown kid at most every few seconds), so
//   keys rotate without a restart and the gateway starts before members is up;
// - forwarding: /auth/*, /oauth/* and /.well-known/jwks.json go to the members service, streamed both ways, with no
//   JWT check, so front-ends and partners use one origin;
// - rate limits: per client (the token's client_id, else its subject) per second and per day, from the token's
//   rl_s / rl_d claims (OAuth clients' registered limits) or the defaults for members and staff; stricter per-IP
//   limits on the login endpoints. Answers 429 with Retry-After and code RATE_LIMITED. Counters live in this
//   process's memory by default (behind several instances each counts on its own); with
//   YUTANG_GATEWAY_RATE_LIMIT_REDIS_URL they live in Redis and all instances share one budget, failing open to
//   the in-memory counters while Redis is unreachable (rate-store.ts).
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createRemoteJwksSigningKeyProvider, type GatewayPlugin } from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';
import { RedisStore, type RateCounter } from './rate-store.ts';

const env = process.env;

/** The RFC 7638 thumbprint of an RSA public key: the `kid` yutang_shared.auth gives tokens signed with its pair. */
export function keyId(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { e: string; n: string };
  return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
}

/**
 * The JWT plugin's signing key providers: the static key for its own kid (or none), else the JWKS at jwksUrl.
 * jwks-rsa caches keys and limits fetches, so a flood of made-up kids cannot hammer the members service.
 */
export function signingKeyProviders(staticKey: KeyObject, jwksUrl: string | undefined) {
  const staticKid = keyId(staticKey);
  const providers: ((kid?: string) => unknown)[] = [(kid?: string) => (!kid || kid === staticKid ? staticKey : null)];
  if (jwksUrl) {
    const remote = createRemoteJwksSigningKeyProvider({
      jwksUri: jwksUrl,
      cache: true,
      cacheMaxAge: 10 * 60 * 1000,
      rateLimit: true,
      jwksRequestsPerMinute: 12,
      timeout: 3000,
    });
    // An unknown kid (or an unreachable JWKS) must be a 401 like any bad signature, not the plugin's 500
    // "Authentication is not available": such tokens are checked against a key that verifies nothing.
    const matchesNothing = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    providers.push((kid?: string) =>
      kid && kid !== staticKid ? Promise.resolve(remote(kid)).catch(() => matchesNothing) : null,
    );
  }
  return providers as never[];
}

// ------------------------------------------------------------------------------------------ forwarding

const FORWARDED = [/^\/auth\//, /^\/oauth\//, /^\/\.well-known\/jwks\.json$/];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

export function isIdentityPath(path: string): boolean {
  return FORWARDED.some((pattern) => pattern.test(path));
}

/** Proxies the identity endpoints to the members service's origin; body and answer are streamed. */
export function useIdentityForwarding(membersUrl: string, requestIdOf: (request: Request) => string | undefined): GatewayPlugin {
  const origin = new URL(membersUrl).origin;
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!isIdentityPath(url.pathname)) return;
      const headers = new fetchAPI.Headers();
      request.headers.forEach((value, key) => {
        if (!HOP_BY_HOP.has(key.toLowerCase())) headers.set(key, value);
      });
      headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
      headers.set('x-forwarded-host', url.host);
      const id = requestIdOf(request);
      if (id) headers.set('x-request-id', id);
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body != null;
      const init = { method: request.method, headers, body: hasBody ? request.body : undefined, duplex: 'half', redirect: 'manual' };
      return fetchAPI.fetch(`${origin}${url.pathname}${url.search}`, init as RequestInit).then(
        (upstream) => {
          const out = new fetchAPI.Headers();
          upstream.headers.forEach((value, key) => {
            if (!HOP_BY_HOP.has(key.toLowerCase()) && key.toLowerCase() !== 'content-encoding') out.set(key, value);
          });
          endResponse(new fetchAPI.Response(upstream.body, { status: upstream.status, headers: out }));
        },
        () => {
          const body = JSON.stringify({ error: 'temporarily_unavailable', error_description: 'the identity service is not reachable' });
          endResponse(new fetchAPI.Response(body, { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '5' } }));
        },
      );
    },
  };
}

// ------------------------------------------------------------------------------------------ rate limits

/** A token bucket: `capacity` requests at once, refilled at `perSecond`. */
class Bucket {
  private tokens: number;
  private at: number;
  constructor(private readonly capacity: number, private readonly perSecond: number, now: number) {
    this.tokens = capacity;
    this.at = now;
  }
  /** 0 when a request may pass now (and it is counted), else the seconds to wait. */
  take(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}

/** Per-key buckets and per-day counters, in memory; idle keys are dropped. */
export class Counter implements RateCounter {
  private readonly seconds = new Map<string, Bucket>();
  private readonly days = new Map<string, { day: number; count: number }>();
  private lastSweep = Date.now();

  /** 0 when allowed, else the seconds until a request of this key may pass. */
  hit(key: string, burst: number, perSecond: number, perDay: number, now = Date.now()): number {
    this.sweep(now);
    let bucket = this.seconds.get(key);
    if (!bucket) this.seconds.set(key, (bucket = new Bucket(burst, perSecond, now)));
    const day = Math.floor(now / 86_400_000);
    const daily = this.days.get(key);
    const used = daily && daily.day === day ? daily.count : 0;
    if (used >= perDay) return Math.ceil(((day + 1) * 86_400_000 - now) / 1000);
    const wait = bucket.take(now);
    if (wait === 0) this.days.set(key, { day, count: used + 1 });
    return wait;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    if (this.seconds.size > 100_000) this.seconds.clear();
  }
}

export type RateLimits = { perSecond: number; perDay: number; loginPerMinute: number };
const LOGIN_BURST = 10;

function claimsOf(request: Request): Record<string, unknown> | undefined {
  const header = request.headers.get('authorization');
  const token = header?.trim().split(/\s+/)[1];
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? value : fallback;
}

function tooMany(retryAfter: number, message: string) {
  return new GraphQLError(message, {
    extensions: { code: 'RATE_LIMITED', retryAfter, http: { status: 429, headers: { 'Retry-After': String(retryAfter) } } },
  });
}

/**
 * Limits GraphQL operations per client after the JWT plugin verified the token (onExecute: claims of a forged token
 * never count against someone else), and login requests per IP before they are forwarded.
 */
export function useRateLimits(limits: RateLimits, redisUrl = env.YUTANG_GATEWAY_RATE_LIMIT_REDIS_URL?.trim()): GatewayPlugin {
  const store = redisUrl ? new RedisStore(redisUrl) : undefined;
  const clients: RateCounter = store ? store.counter('client', new Counter()) : new Counter();
  const logins: RateCounter = store ? store.counter('login', new Counter()) : new Counter();
  const loginPerSecond = limits.loginPerMinute / 60;
  const loginBurst = Math.min(LOGIN_BURST, limits.loginPerMinute);
  return {
    onRequest({ url, serverContext, endResponse, fetchAPI }) {
      if (!/^\/(auth|oauth)\//.test(url.pathname)) return;
      const ctx = serverContext as { req?: { socket?: { remoteAddress?: string } } };
      const ip = ctx.req?.socket?.remoteAddress ?? 'unknown';
      return whenDone(logins.hit(`ip:${ip}`, loginBurst, loginPerSecond, Number.MAX_SAFE_INTEGER), (wait) => {
        if (wait === 0) return;
        const body = JSON.stringify({ error: 'rate_limited', error_description: 'too many login attempts; retry later' });
        endResponse(
          new fetchAPI.Response(body, { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(wait) } }),
        );
      });
    },
    onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as { request?: Request; jwt?: { payload?: Record<string, unknown> } };
      const claims = context.jwt?.payload ?? (context.request ? claimsOf(context.request) : undefined);
      if (!claims) return;
      const key = typeof claims.client_id === 'string' ? `client:${claims.client_id}` : `sub:${String(claims.sub)}`;
      const perSecond = positive(claims.rl_s, limits.perSecond);
      return whenDone(clients.hit(key, perSecond, perSecond, positive(claims.rl_d, limits.perDay)), (wait) => {
        if (wait > 0) setResultAndStopExecution({ errors: [tooMany(wait, `rate limit exceeded; retry in ${wait} s`)] });
      });
    },
    onDispose() {
      store?.close();
    },
  };
}

/** Calls `then` with the value now (in-memory counters stay synchronous) or once the promise settles. */
function whenDone<T>(value: T | Promise<T>, then: (value: T) => void): void | Promise<void> {
  return value instanceof Promise ? value.then(then) : then(value);
}
