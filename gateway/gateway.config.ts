// Hive Gateway configuration for Yutang (see docs/architecture.md, "Gateway → subgraph trust").
//
// Started from gateway/ as
//   hive-gateway supergraph supergraph.graphql -c gateway.config.ts --hive-router-runtime
//
// - every GraphQL request needs a valid RS256 token (issuer/audience checked); the GraphiQL page and the
//   health endpoints stay open
// - Authorization and x-request-id go to every subgraph; x-request-id is returned to the client
// - every subgraph request is signed: x-yutang-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
// - depth, alias and token limits; JSON-lines logs on stdout
import { createHmac, createPublicKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import {
  createInlineSigningKeyProvider,
  defineConfig,
  jsonStringify,
  LegacyLogger,
  Logger,
  type GatewayPlugin,
  type LogLevel,
  type LogWriter,
} from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';

const env = process.env;

// ------------------------------------------------------------------------------------------ settings

const gatewayDir = (() => {
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return process.cwd();
  }
})();
const repoDir = resolve(gatewayDir, '..');
const dataDir = env.YUTANG_DATA_DIR ? resolve(env.YUTANG_DATA_DIR) : resolve(repoDir, '.data');
const keyDir = resolve(dataDir, 'keys');

const SUBGRAPH_URLS = {
  members: env.YUTANG_MEMBERS_URL || 'http://127.0.0.1:4001/graphql',
  loyalty: env.YUTANG_LOYALTY_URL || 'http://127.0.0.1:4002/graphql',
  community: env.YUTANG_COMMUNITY_URL || 'http://127.0.0.1:4003/graphql',
};
const PORT = Number.parseInt(env.YUTANG_GATEWAY_PORT || '4000', 10);
const JWT_ISSUER = env.YUTANG_JWT_ISSUER || 'yutang';
const JWT_AUDIENCE = env.YUTANG_JWT_AUDIENCE || 'yutang-api';

export const REQUEST_ID_HEADER = 'x-request-id';
export const SIGNATURE_HEADER = 'x-yutang-signature';
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Stops the process with one clear line: the gateway must not start half-configured. */
function die(message: string): never {
  process.stderr.write(`yutang gateway: ${message}\n`);
  process.exit(1);
}

/** An inline value (used as is) or the trimmed content of a file; exits when neither is there. */
function readSecret(inline: string | undefined, file: string, what: string, inlineVar: string, fileVar: string): string {
  if (inline) return inline;
  let content: string;
  try {
    content = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    die(`${what} not configured: set ${inlineVar} or ${fileVar}, or create ${file} (make run generates it) [${code}]`);
  }
  if (!content) die(`${what} file ${file} is empty`);
  return content;
}

if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) {
  die(`YUTANG_GATEWAY_PORT must be a port number, not ${JSON.stringify(env.YUTANG_GATEWAY_PORT)}`);
}

const jwtPublicKey = readSecret(
  env.YUTANG_JWT_PUBLIC_KEY,
  resolve(env.YUTANG_JWT_PUBLIC_KEY_FILE || resolve(keyDir, 'jwt-public.pem')),
  'JWT public key',
  'YUTANG_JWT_PUBLIC_KEY',
  'YUTANG_JWT_PUBLIC_KEY_FILE',
);
try {
  const key = createPublicKey(jwtPublicKey);
  if (key.asymmetricKeyType !== 'rsa') die(`the JWT public key is ${key.asymmetricKeyType}, RS256 needs an RSA key`);
} catch (err) {
  die(`the JWT public key is not a PEM public key: ${(err as Error).message}`);
}

const gatewaySecret = Buffer.from(
  readSecret(
    env.YUTANG_GATEWAY_SECRET,
    resolve(env.YUTANG_GATEWAY_SECRET_FILE || resolve(keyDir, 'gateway-secret')),
    'gateway secret',
    'YUTANG_GATEWAY_SECRET',
    'YUTANG_GATEWAY_SECRET_FILE',
  ),
  'utf8',
);

// ------------------------------------------------------------------------------------------- logging

/**
 * One JSON object per line on stdout, in the shape every Yutang process uses:
 * {"ts", "level", "logger", "msg", "service", "request_id", ...attributes}.
 */
class YutangJsonLogWriter implements LogWriter {
  write(level: LogLevel, attrs: Record<string, unknown> | null | undefined, msg: string | null | undefined): void {
    const { requestId, ...rest } = (attrs ?? {}) as Record<string, unknown>;
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      // Legacy-logger calls put their extra arguments under "0", "1", ...; errors arrive as
      // {class, message, stack}: keep the stack for errors only, warnings need just the message.
      const name = /^\d+$/.test(key) ? (isErrorLike(value) ? 'err' : `arg${key}`) : key;
      extra[name] = level !== 'error' && isErrorLike(value) ? withoutStack(value) : value;
    }
    const line: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level,
      logger: 'hive-gateway',
      msg: (msg || (typeof extra.message === 'string' ? extra.message : '')).trim(),
      service: 'gateway',
    };
    if (requestId != null) line.request_id = requestId;
    process.stdout.write(`${jsonStringify({ ...extra, ...line })}\n`);
  }
}

function isErrorLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'message' in value && 'stack' in value;
}

function withoutStack(value: Record<string, unknown>): Record<string, unknown> {
  const { stack: _stack, ...rest } = value;
  return rest;
}

// The Hive logger refuses LOG_LEVEL values it does not know (e.g. "INFO", which the Python services use).
const LOG_LEVELS: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'error',
};
const logLevel = LOG_LEVELS[(env.LOG_LEVEL || 'info').toLowerCase()] ?? 'info';
if (env.LOG_LEVEL) env.LOG_LEVEL = logLevel;
const log = new Logger({
  level: logLevel,
  writers: [new YutangJsonLogWriter()],
  // Failed subgraph calls are logged with the request; its body may hold personal data (variables).
  redact: {
    paths: ['extensions.request.body', 'extensions.request.headers.authorization', 'request.headers.authorization'],
    censor: '[redacted]',
  },
});

// ---------------------------------------------------------------------------------------- request id

const requestIds = new WeakMap<Request, string>();

const QUIET_PATHS = new Set(['/healthcheck', '/readiness']);

/**
 * Takes the client's x-request-id when it is sane, else makes one; returns it in the response; tags every
 * log line of the request with it; logs one access line per request (health checks aside).
 */
function useYutangRequestId(): GatewayPlugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request, serverContext }) {
      const given = request.headers.get(REQUEST_ID_HEADER);
      const id = given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
      requestIds.set(request, id);
      started.set(request, performance.now());
      const ctx = serverContext as { log?: Logger; logger?: unknown };
      if (ctx.log) {
        ctx.log = ctx.log.child({ requestId: id });
        ctx.logger = LegacyLogger.from(ctx.log);
      }
    },
    onResponse({ request, response, serverContext }) {
      const id = requestIds.get(request);
      if (!id) return;
      response.headers.set(REQUEST_ID_HEADER, id);
      const path = new URL(request.url, 'http://gateway').pathname;
      if (QUIET_PATHS.has(path)) return;
      const ms = Math.round((performance.now() - (started.get(request) ?? performance.now())) * 10) / 10;
      const reqLog = (serverContext as { log?: Logger }).log ?? log.child({ requestId: id });
      reqLog.info({ status: response.status, ms }, `${request.method} ${path} ${response.status}`);
    },
  };
}

// ------------------------------------------------------------------------------------ authentication

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

const JWT_SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `Authorization: Bearer <jwt>`; anything else is a 401 with code UNAUTHENTICATED. */
function bearerToken({ request }: { request: Request }) {
  const header = request?.headers.get('authorization');
  if (!header) throw unauthenticated('a valid token is required (Authorization: Bearer <token>)');
  const [scheme, token, ...extra] = header.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer' || !token || extra.length > 0) {
    throw unauthenticated("Authorization must be 'Bearer <token>'");
  }
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => JWT_SEGMENT.test(p))) throw unauthenticated('malformed token');
  // Header and claims must be JSON objects, else the JWT plugin answers 400 without an error code.
  for (const part of parts.slice(0, 2)) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      throw unauthenticated('malformed token');
    }
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw unauthenticated('malformed token');
  }
  return { prefix: 'Bearer', token };
}

/** The JWT plugin's own 401s ("Unauthenticated") get the same error code as ours and the subgraphs'. */
function useUnauthenticatedCode(): GatewayPlugin {
  return {
    onResultProcess({ result, setResult }) {
      if (!result || Array.isArray(result) || typeof result !== 'object' || !('errors' in result)) return;
      const errors = (result as { errors?: readonly GraphQLError[] }).errors;
      if (!errors?.some((e) => (e.extensions?.http as { status?: number } | undefined)?.status === 401)) return;
      setResult({
        ...(result as object),
        errors: errors.map((e) =>
          (e.extensions?.http as { status?: number } | undefined)?.status === 401 && !e.extensions?.code
            ? new GraphQLError(e.message, { extensions: { ...e.extensions, code: 'UNAUTHENTICATED' } })
            : e,
        ),
      } as never);
    },
  };
}

// ------------------------------------------------------------------------------------------- signing

type FetchArgs = [url: string, options?: RequestInit & { headers?: unknown }, ...rest: unknown[]];

/** The exact bytes a fetch will send as the body; the body is then sent as these bytes. */
function bodyBytes(body: unknown): Buffer {
  if (body == null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new Error(`cannot sign a subgraph request body of type ${Object.prototype.toString.call(body)}`);
}

function plainHeaders(headers: unknown): Record<string, string> {
  if (headers == null) return {};
  if (typeof (headers as Headers).forEach === 'function' && !Array.isArray(headers)) {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((value, key) => {
      out[key] = value;
    });
    return out;
  }
  if (Array.isArray(headers)) return Object.fromEntries(headers as [string, string][]);
  return { ...(headers as Record<string, string>) };
}

export function signatureHeader(secret: Buffer, body: Buffer, timestamp = Math.floor(Date.now() / 1000)): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

/**
 * Signs every outgoing (subgraph) request. It wraps the fetch function itself, so the signature is computed
 * over the final body after every other onFetch hook, and that same byte buffer is what gets sent.
 */
function useYutangSignature(secret: Buffer): GatewayPlugin {
  return {
    onFetch({ fetchFn, setFetchFn }) {
      const next = fetchFn as (...args: FetchArgs) => Promise<Response>;
      setFetchFn(((url: string, options: FetchArgs[1] = {}, ...rest: unknown[]) => {
        const body = bodyBytes(options.body);
        const headers = plainHeaders(options.headers);
        for (const key of Object.keys(headers)) if (key.toLowerCase() === SIGNATURE_HEADER) delete headers[key];
        headers[SIGNATURE_HEADER] = signatureHeader(secret, body);
        const sent = options.body == null ? options.body : (body as unknown as BodyInit);
        return next(url, { ...options, headers, body: sent }, ...rest);
      }) as never);
    },
  };
}

// -------------------------------------------------------------------------------------------- config

export const gatewayConfig = defineConfig({
  supergraph: resolve(gatewayDir, 'supergraph.graphql'),
  host: '127.0.0.1',
  port: PORT,
  logging: log,

  transportEntries: {
    members: { location: SUBGRAPH_URLS.members },
    loyalty: { location: SUBGRAPH_URLS.loyalty },
    community: { location: SUBGRAPH_URLS.community },
  },

  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',
  graphiql: true,
  maskedErrors: true,

  jwt: {
    signingKeyProviders: [createInlineSigningKeyProvider(jwtPublicKey)],
    tokenLookupLocations: [bearerToken],
    tokenVerification: { algorithms: ['RS256'], issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
    reject: { missingToken: true, invalidToken: true },
    // Subgraphs verify the forwarded Authorization header themselves; keep the claims out of the body.
    forward: { payload: false, token: false },
  },

  // Our own request id handling (the built-in one trusts any client value).
  requestId: false,
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization'),
      [REQUEST_ID_HEADER]: requestIds.get(request),
    }),
  },

  maxDepth: 12,
  maxTokens: 4000,

  plugins: () => [
    useYutangRequestId(),
    useUnauthenticatedCode(),
    maxAliasesPlugin({ n: 30, propagateOnRejection: true }),
    useYutangSignature(gatewaySecret),
  ],
});
