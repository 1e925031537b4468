// Hive Gateway configuration for Yutang (see docs/architecture.md, "Gateway → subgraph trust").
//
// Started from gateway/ as
//   hive-gateway supergraph supergraph.graphql -c gateway.config.ts --hive-router-runtime
//
// - every GraphQL request needs a valid RS256 token (issuer/audience checked); the GraphiQL page and the
//   health endpoints stay open
// - Authorization and x-request-id go to every subgraph; x-request-id is returned to the client
// - every subgraph request is signed: x-yutang-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
// - token claims checked like the subgraphs do (yutang_shared.auth.verify_token), so a bad token is a 401 here
// - request body limit, CORS only for configured origins
// - depth, alias and token limits and a cost limit, each refused with its own extensions.code before any
//   subgraph is called
// - GraphiQL (Hive Laboratory) with a sample operation, served precompressed; JSON-lines logs on stdout
import { createHmac, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  defineConfig,
  jsonStringify,
  LegacyLogger,
  Logger,
  type GatewayPlugin,
  type LogLevel,
  type LogWriter,
} from '@graphql-hive/gateway';
import { renderLaboratory } from '@graphql-hive/render-laboratory';
import { signingKeyProviders, useIdentityForwarding, useRateLimits } from './identity.ts';
import {
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

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

/** A positive whole number from the environment, or the default; exits on anything else. */
function positiveInt(name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    die(`${name} must be a positive whole number, not ${JSON.stringify(env[name])}`);
  }
  return Number(raw);
}

/** The largest request body accepted, in bytes (Content-Length or, when streamed, the bytes read). */
const MAX_BODY_BYTES = positiveInt('YUTANG_GATEWAY_MAX_BODY_BYTES', 1024 * 1024);
/** The largest estimated cost of one operation (see "cost limit" below). */
const MAX_COST = positiveInt('YUTANG_GATEWAY_MAX_COST', 50_000);
/** Browser origins allowed to call the API cross-origin; none by default. */
const CORS_ORIGINS = new Set(
  (env.YUTANG_CORS_ORIGINS || '')
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter(Boolean),
);
for (const origin of CORS_ORIGINS) {
  if (origin === '*' || !/^https?:\/\/[^/?#\s]+$/.test(origin)) {
    die(`YUTANG_CORS_ORIGINS takes origins like https://h5.example.com (scheme://host[:port]), not ${JSON.stringify(origin)}`);
  }
}
/** Rate limits (see identity.ts): per client per second and per day unless its token says (rl_s, rl_d); per IP on logins. */
const RATE_LIMITS = {
  perSecond: positiveInt('YUTANG_GATEWAY_RATE_PER_SECOND', 20),
  perDay: positiveInt('YUTANG_GATEWAY_RATE_PER_DAY', 100_000),
  loginPerMinute: positiveInt('YUTANG_GATEWAY_LOGIN_RATE_PER_MINUTE', 60),
};
/** The members service's JWKS: keys that rotated in after the gateway started verify without a restart. */
const JWKS_URL = env.YUTANG_JWKS_URL || `${new URL(SUBGRAPH_URLS.members).origin}/.well-known/jwks.json`;
const MAX_DEPTH = 12;
const MAX_ALIASES = 30;
const MAX_TOKENS = 4000;
/** Token clock skew: an `iat` up to this many seconds in the future is accepted. */
const CLOCK_SKEW_SECONDS = 60;

const jwtPublicKey = readSecret(
  env.YUTANG_JWT_PUBLIC_KEY,
  resolve(env.YUTANG_JWT_PUBLIC_KEY_FILE || resolve(keyDir, 'jwt-public.pem')),
  'JWT public key',
  'YUTANG_JWT_PUBLIC_KEY',
  'YUTANG_JWT_PUBLIC_KEY_FILE',
);
// Built once: given a PEM string, jsonwebtoken would parse it into a KeyObject on every request.
const jwtKey: KeyObject = (() => {
  try {
    return createPublicKey(jwtPublicKey);
  } catch (err) {
    die(`the JWT public key is not a PEM public key: ${(err as Error).message}`);
  }
})();
if (jwtKey.asymmetricKeyType !== 'rsa') die(`the JWT public key is ${jwtKey.asymmetricKeyType}, RS256 needs an RSA key`);

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
    const { requestId, ...rest } = redacted((attrs ?? {}) as Record<string, unknown>);
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
    logLines.push(`${jsonStringify({ ...extra, ...line })}\n`);
    if (level === 'error' || level === 'warn' || logLines.length >= MAX_PENDING_LOG_LINES) flushLogLines();
    else logFlush ??= setTimeout(flushLogLines, LOG_FLUSH_MS).unref();
  }
}

// Log lines are written together, at most LOG_FLUSH_MS after the first of them: stdout to a pipe is a synchronous
// write on Linux, and one write per request (the access line) cost the gateway ~20% of its time in a profile under
// load (blocked whenever the reader of the pipe lagged). Warnings and errors go out at once; nothing is dropped,
// and what is pending is written at exit.
const LOG_FLUSH_MS = 50;
const MAX_PENDING_LOG_LINES = 512;
const logLines: string[] = [];
let logFlush: NodeJS.Timeout | undefined;

function flushLogLines(): void {
  if (logFlush) clearTimeout(logFlush);
  logFlush = undefined;
  if (logLines.length === 0) return;
  const text = logLines.join('');
  logLines.length = 0;
  process.stdout.write(text);
}
process.on('exit', flushLogLines);

function isErrorLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'message' in value && 'stack' in value;
}

function withoutStack(value: Record<string, unknown>): Record<string, unknown> {
  const { stack: _stack, ...rest } = value;
  return rest;
}

// Failed subgraph calls are logged with the request; its body may hold personal data (variables). Redacted here,
// in the writer, rather than with the Logger's `redact` option: that option compiles a redactor again for every
// child logger, and the gateway makes children per request.
const REDACT_PATHS = [
  ['extensions', 'request', 'body'],
  ['extensions', 'request', 'headers', 'authorization'],
  ['request', 'headers', 'authorization'],
];
const CENSOR = '[redacted]';

/** A copy of `attrs` with every REDACT_PATHS value censored, at the top level and one level down. */
function redacted(attrs: Record<string, unknown>): Record<string, unknown> {
  let out = attrs;
  for (const path of REDACT_PATHS) out = censorPath(out, path);
  for (const [key, value] of Object.entries(out)) {
    if (!isRecord(value)) continue;
    let inner = value;
    for (const path of REDACT_PATHS) inner = censorPath(inner, path);
    if (inner !== value) out = { ...out, [key]: inner };
  }
  return out;
}

/** `obj` itself when the path is absent, else a copy (copied along the path only) with the value censored. */
function censorPath(obj: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const [head, ...tail] = path;
  if (head === undefined || !(head in obj)) return obj;
  if (tail.length === 0) return obj[head] === undefined ? obj : { ...obj, [head]: CENSOR };
  const child = obj[head];
  if (!isRecord(child)) return obj;
  const replaced = censorPath(child, tail);
  return replaced === child ? obj : { ...obj, [head]: replaced };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
const log = new Logger({ level: logLevel, writers: [new YutangJsonLogWriter()] });

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
  const [, claims] = parts.slice(0, 2).map(decodeSegment);
  checkClaims(claims as Record<string, unknown>);
  return { prefix: 'Bearer', token };
}

function decodeSegment(part: string): Record<string, unknown> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw unauthenticated('malformed token');
  }
  if (!isRecord(decoded)) throw unauthenticated('malformed token');
  return decoded;
}

const ROLES = new Set(['member', 'staff', 'ops', 'partner', 'service']);

/**
 * The claim rules of yutang_shared.auth.verify_token that the JWT plugin (jsonwebtoken) does not apply: exp, iat
 * and sub are required, iat is not in the future, the role is known, scopes (if any) is a list of strings.
 * They run on the decoded claims before the signature check; the JWT plugin then checks signature, algorithm,
 * issuer, audience, exp and nbf, so a token passes only when both agree. Issuer and audience are required there.
 */
function checkClaims(claims: Record<string, unknown>): void {
  const now = Math.floor(Date.now() / 1000);
  const { exp, iat, sub, role, scopes } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthenticated('token has no valid exp (expiry) claim');
  if (exp <= now) throw unauthenticated('token expired');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw unauthenticated('token has no valid iat claim');
  if (iat > now + CLOCK_SKEW_SECONDS) throw unauthenticated('token issued in the future (iat)');
  if (typeof sub !== 'string' || !sub) throw unauthenticated('token has no sub claim');
  if (typeof role !== 'string' || !ROLES.has(role)) throw unauthenticated('token has an unknown role');
  if (scopes != null && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string'))) {
    throw unauthenticated('scopes must be a list of strings');
  }
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

// ------------------------------------------------------------------------------------------ body size

/** A GraphQL-shaped refusal; `status` is the HTTP status whatever the client accepts. */
function refusal(message: string, code: string, status: number, extensions: Record<string, unknown> = {}) {
  return new GraphQLError(message, { extensions: { ...extensions, code, http: { status } } });
}

/**
 * Refuses bodies over `limit` bytes with HTTP 413 and code REQUEST_TOO_LARGE: at once by Content-Length, and for
 * a body without one (chunked) as soon as the bytes read pass the limit. Yoga's own limit (25 MB) stays behind it.
 */
function useBodyLimit(limit: number): GatewayPlugin {
  const tooLarge = () => refusal(`request body too large: at most ${limit} bytes`, 'REQUEST_TOO_LARGE', 413);
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      const length = request.headers.get('content-length');
      if (length != null && /^[0-9]+$/.test(length.trim()) && Number(length) > limit) throw tooLarge();
      // With a Content-Length the HTTP parser delivers exactly that many bytes (Yoga rejects a malformed one).
      if (length != null || !requestParser || request.body == null) return;
      const parse = requestParser;
      setRequestParser(async (req: Request) => parse(await boundedRequest(req, limit, tooLarge)));
    },
  };
}

/** The same request with its body read into memory, refusing (via `tooLarge`) past `limit` bytes. */
async function boundedRequest(request: Request, limit: number, tooLarge: () => GraphQLError): Promise<Request> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: Buffer.concat(chunks) });
}

// ------------------------------------------------------------------------------------------------ CORS

/** CORS headers only for an allowed Origin; any other origin (and every origin by default) gets none. */
function corsFor(request: Request) {
  const origin = request.headers.get('origin');
  if (!origin || !CORS_ORIGINS.has(origin)) return false as const;
  return {
    origin,
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', REQUEST_ID_HEADER],
    exposedHeaders: [REQUEST_ID_HEADER],
    credentials: false, // bearer tokens, no cookies
    maxAge: 600,
  };
}

// -------------------------------------------------------------------------------------- query limits

/**
 * Depth, alias and token limits (GraphQL Armor) refused with their own extensions.code instead of Armor's
 * code-less "Syntax Error: …". Validation errors otherwise carry GRAPHQL_VALIDATION_FAILED (Yoga's default).
 */
function useQueryLimits(): GatewayPlugin[] {
  const report = (code: string) => (ctx: ValidationContext | null, err: GraphQLError) => {
    ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code } }));
  };
  return [
    maxTokensPlugin({
      n: MAX_TOKENS,
      // Parsing has no context to report to: throw ours, before Armor throws its own.
      onReject: [
        (_ctx, err) => {
          throw new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'TOO_MANY_TOKENS' } });
        },
      ],
    }) as GatewayPlugin,
    maxDepthPlugin({ n: MAX_DEPTH, propagateOnRejection: false, onReject: [report('QUERY_TOO_DEEP')] }) as GatewayPlugin,
    maxAliasesPlugin({ n: MAX_ALIASES, propagateOnRejection: false, onReject: [report('TOO_MANY_ALIASES')] }) as GatewayPlugin,
  ];
}

// -------------------------------------------------------------------------------------------- cost limit

/** The assumed length of a list field that has neither a `first` argument nor a list argument. */
const DEFAULT_LIST_SIZE = 10;

/**
 * Before execution (so before any subgraph is called): coerces the variables, then estimates the operation's cost
 * and refuses it above MAX_COST with code COST_ESTIMATED_TOO_EXPENSIVE and extensions.cost {estimated, max}.
 *
 * Cost: every field of object, interface or union type costs 1, scalars cost 0; a field's cost (with everything
 * below it) is multiplied by its list size. A field with a `first` argument sets the size of the list below it:
 * the field itself when it is a list, else the next list field down (a connection's `edges`). Another list field
 * is as long as its longest list argument (`adjustPointsBatch(inputs:)`), else DEFAULT_LIST_SIZE. Fragments on
 * different types are all counted (an upper bound). Introspection fields cost nothing.
 *
 * Variable coercion errors (`$points: Int!` given 1.5) are answered here too, with GRAPHQL_VALIDATION_FAILED like
 * the literal case, instead of graphql-js's code-less error.
 */
function useCostLimit(maxCost: number): GatewayPlugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      const coerced = getVariableValues(
        args.schema,
        operation.variableDefinitions ?? [],
        (args.variableValues ?? {}) as Record<string, unknown>,
        { maxErrors: 25 },
      );
      if (coerced.errors) {
        setResultAndStopExecution({
          errors: coerced.errors.map(
            (e) =>
              new GraphQLError(e.message, {
                nodes: e.nodes,
                extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { spec: true, status: 400 } },
              }),
          ),
        });
        return;
      }
      const root = args.schema.getRootType(operation.operation);
      if (!root) return;
      const estimator = new CostEstimator(args.schema, args.document, coerced.coerced);
      const estimated = estimator.selectionSet(operation.selectionSet, root, undefined);
      if (estimated > maxCost) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(`operation cost ${estimated} exceeds the limit of ${maxCost}: ask for smaller pages`, {
              extensions: {
                code: 'COST_ESTIMATED_TOO_EXPENSIVE',
                cost: { estimated, max: maxCost },
                http: { spec: true, status: 400 },
              },
            }),
          ],
        });
      }
    },
  };
}

class CostEstimator {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  /** The cost of a selection set on `type`; `pageSize` is a `first` waiting for the next list field down. */
  selectionSet(set: SelectionSetNode | undefined, type: GraphQLCompositeType, pageSize: number | undefined): number {
    let total = 0;
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        total += this.field(selection, type, pageSize);
      } else {
        const fragment =
          selection.kind === Kind.INLINE_FRAGMENT ? selection : this.fragments.get(selection.name.value);
        if (!fragment) continue;
        const condition = fragment.typeCondition ? this.schema.getType(fragment.typeCondition.name.value) : type;
        if (condition && isCompositeType(condition)) total += this.selectionSet(fragment.selectionSet, condition, pageSize);
      }
    }
    return total;
  }

  private field(node: FieldNode, parent: GraphQLCompositeType, pageSize: number | undefined): number {
    if (node.name.value.startsWith('__')) return 0;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
    const def = parent.getFields()[node.name.value];
    if (!def) return 0;
    const named = getNamedType(def.type);
    if (!isCompositeType(named)) return 0;
    const first = this.first(node, def);
    const list = isList(def.type);
    // A `first` on a list field sizes that list; on a connection it sizes the list below (edges).
    const size = list ? (first ?? pageSize ?? this.longestListArgument(node, def) ?? DEFAULT_LIST_SIZE) : 1;
    const below = list ? undefined : (first ?? pageSize);
    return size * (1 + this.selectionSet(node.selectionSet, named, below));
  }

  /** The `first` argument's value (literal, variable or schema default), when the field has one. */
  private first(node: FieldNode, def: GraphQLField<unknown, unknown>): number | undefined {
    const arg = def.args.find((a) => a.name === 'first');
    if (!arg) return undefined;
    const given = node.arguments?.find((a) => a.name.value === 'first');
    const value = given ? valueFromAST(given.value, arg.type, this.variables) : arg.defaultValue;
    return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : undefined;
  }

  private longestListArgument(node: FieldNode, def: GraphQLField<unknown, unknown>): number | undefined {
    let longest: number | undefined;
    for (const given of node.arguments ?? []) {
      const arg = def.args.find((a) => a.name === given.name.value);
      if (!arg || !isList(arg.type)) continue;
      const value = valueFromAST(given.value, arg.type, this.variables);
      if (Array.isArray(value)) longest = Math.max(longest ?? 0, value.length);
    }
    return longest;
  }
}

function isList(type: GraphQLOutputType | GraphQLField<unknown, unknown>['args'][number]['type']): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

// ------------------------------------------------------------------------------------------- GraphiQL

const SAMPLE_OPERATION_NAME = 'FirstMembers';
const SAMPLE_QUERY = `# Paste a token from \`make token\` into Headers below, then run (Ctrl-Enter).
# The docs pane fills in once the token is there.
query ${SAMPLE_OPERATION_NAME} {
  members(first: 10) {
    edges {
      node { id nickname registeredAt loyalty { balance } groups { name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;
export const SAMPLE_HEADERS = '{"Authorization": "Bearer <paste a token from make token>"}';

/**
 * Hive Laboratory with a sample operation and the headers box prefilled, and introspection sent with the active
 * operation's headers (Laboratory's default sends none, so with the JWT check the docs pane stayed empty).
 * The sample is offered only to a browser that has no tabs saved yet: a returning user keeps their own.
 */
function graphiqlHtml(): string {
  const settings = {
    fetch: { credentials: 'same-origin', timeout: 10_000, useGETForQueries: false },
    subscriptions: { protocol: 'WS' },
    introspection: { method: 'POST', headers: '', includeActiveOperationHeaders: true, pollSchema: true },
  };
  const sample = {
    defaultOperations: [
      { id: 'yutang-sample', name: SAMPLE_OPERATION_NAME, query: SAMPLE_QUERY, variables: '', headers: SAMPLE_HEADERS, extensions: '' },
    ],
    defaultTabs: [{ id: 'yutang-sample-tab', type: 'operation', data: { id: 'yutang-sample', name: SAMPLE_OPERATION_NAME } }],
    defaultActiveTabId: 'yutang-sample-tab',
  };
  const props =
    `Object.assign(${JSON.stringify({ enableDocs: true, defaultSettings: settings })}, ` +
    `localStorage.getItem('hive-laboratory:tabs') ? {} : ${JSON.stringify(sample)})`;
  const html = renderLaboratory({ title: 'Yutang GraphQL' });
  // renderLaboratory maps only a few GraphiQL options into its last call's props object: swap that for ours.
  const anchor = "window.document.querySelector('#root'),";
  const start = html.lastIndexOf(anchor) + anchor.length;
  const end = html.lastIndexOf(')', html.lastIndexOf('</script>'));
  const theirs = html.slice(start, end).trim().replace(/,$/, '');
  try {
    if (start < anchor.length || end < start || !isRecord(JSON.parse(theirs))) throw new Error('no props object');
  } catch (err) {
    die(`cannot place the GraphiQL options into the Laboratory page: ${(err as Error).message}`);
  }
  return `${html.slice(0, start)}\n${props.replaceAll('</', '<\\/')},\n${html.slice(end)}`;
}

type Page = { identity: Buffer; gzip: Promise<Buffer>; br: Promise<Buffer> };

/**
 * Serves the GraphiQL page (GET /graphql with Accept: text/html) rendered once and compressed once, gzip or
 * Brotli as the client accepts: ~21 MB of HTML and JavaScript travel as ~3–4 MB.
 */
function useGraphiQLPage(endpoint: string): GatewayPlugin {
  let page: Page | undefined;
  const load = (): Page => {
    if (page) return page;
    const identity = Buffer.from(graphiqlHtml(), 'utf8');
    page = {
      identity,
      gzip: promisify(gzip)(identity, { level: 6 }),
      br: promisify(brotliCompress)(identity, {
        params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: identity.length },
      }),
    };
    page.gzip.catch(() => undefined);
    page.br.catch(() => undefined);
    return page;
  };
  setImmediate(load); // compress in the background at start, not on the first visitor's request
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' || url.pathname !== endpoint) return;
      if (!request.headers.get('accept')?.includes('text/html')) return;
      const encoding = pickEncoding(request.headers.get('accept-encoding'));
      const current = load();
      const body = encoding === 'br' ? current.br : encoding === 'gzip' ? current.gzip : Promise.resolve(current.identity);
      return body.then((bytes) => {
        const headers: Record<string, string> = {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-cache',
          vary: 'accept-encoding',
        };
        if (encoding) headers['content-encoding'] = encoding;
        endResponse(new Response(bytes, { status: 200, headers }));
      });
    },
  };
}

/** br when the client takes it, else gzip, else none (q=0 means "not acceptable"). */
function pickEncoding(header: string | null): 'br' | 'gzip' | undefined {
  const accepted = new Set(
    (header ?? '')
      .split(',')
      .map((part) => part.trim().split(';').map((p) => p.trim()))
      .filter(([, ...params]) => !params.some((p) => /^q=0(\.0*)?$/.test(p)))
      .map(([name]) => name?.toLowerCase()),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return undefined;
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
  // GraphiQL is served by useGraphiQLPage below (sample operation, headers prefilled, precompressed).
  graphiql: false,
  maskedErrors: true,
  cors: corsFor,

  jwt: {
    // The static key for its own kid (and kid-less tokens), else the members service's JWKS (identity.ts).
    signingKeyProviders: signingKeyProviders(jwtKey, JWKS_URL),
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

  plugins: () => [
    useYutangRequestId(),
    useRateLimits(RATE_LIMITS),
    useIdentityForwarding(SUBGRAPH_URLS.members, (request) => requestIds.get(request)),
    useGraphiQLPage('/graphql'),
    useUnauthenticatedCode(),
    useBodyLimit(MAX_BODY_BYTES),
    ...useQueryLimits(),
    useCostLimit(MAX_COST),
    useYutangSignature(gatewaySecret),
  ],
});
