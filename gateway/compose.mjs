#!/usr/bin/env node
// Composes gateway/supergraph.graphql from the subgraphs' SDL files (services/<name>/schema.graphql).
//
//   node compose.mjs           write supergraph.graphql (exit 1 and print the errors when composition fails)
//   node compose.mjs --check   write nothing; exit 1 when the committed supergraph.graphql is not what
//                              composing would write
//
// YUTANG_SDL_DIR      directory holding <name>/schema.graphql (default: ../services, next to gateway/)
// YUTANG_SUPERGRAPH   output file (default: supergraph.graphql next to this script)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));

// The subgraphs, in a fixed order (the output must not depend on directory listing order).
const SUBGRAPHS = [
  { name: 'members', url: 'http://127.0.0.1:4001/graphql' },
  { name: 'loyalty', url: 'http://127.0.0.1:4002/graphql' },
  { name: 'community', url: 'http://127.0.0.1:4003/graphql' },
];

const check = process.argv.includes('--check');
const unknown = process.argv.slice(2).filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`compose.mjs: unknown argument(s): ${unknown.join(' ')} (only --check is accepted)`);
  process.exit(2);
}

const sdlDir = resolve(here, process.env.YUTANG_SDL_DIR || join('..', 'services'));
const outFile = resolve(here, process.env.YUTANG_SUPERGRAPH || 'supergraph.graphql');
const show = (p) => relative(process.cwd(), p) || p;

function fail(lines) {
  for (const line of lines) console.error(line);
  process.exit(1);
}

const services = [];
const problems = [];
for (const { name, url } of SUBGRAPHS) {
  const file = join(sdlDir, name, 'schema.graphql');
  let sdl;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot read ${show(file)} (${err.code ?? err.message}); run \`make sdl\` first`);
    continue;
  }
  try {
    services.push({ name, url, typeDefs: parse(sdl, { noLocation: false }) });
  } catch (err) {
    problems.push(`${name}: ${show(file)} is not valid GraphQL SDL: ${err.message}`);
  }
}
if (problems.length > 0) fail(['composition not attempted:', ...problems.map((p) => `  - ${p}`)]);

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  fail([
    `composition failed with ${result.errors.length} error(s):`,
    ...result.errors.map((e) => {
      const code = e.extensions?.code ? `[${e.extensions.code}] ` : '';
      return `  - ${code}${e.message}`;
    }),
  ]);
}

const supergraph = result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`;

if (!check) {
  writeFileSync(outFile, supergraph);
  console.log(`composed ${SUBGRAPHS.map((s) => s.name).join(', ')} into ${show(outFile)}`);
  process.exit(0);
}

if (!existsSync(outFile)) {
  fail([`${show(outFile)} does not exist; run \`make compose\` (or \`npm run compose\` in gateway/) and commit it`]);
}
const committed = readFileSync(outFile, 'utf8');
if (committed === supergraph) {
  console.log(`${show(outFile)} is up to date`);
  process.exit(0);
}
const want = supergraph.split('\n');
const have = committed.split('\n');
let line = 0;
while (line < want.length && line < have.length && want[line] === have[line]) line += 1;
fail([
  `${show(outFile)} is out of date: it differs from the composed supergraph from line ${line + 1} on`,
  `  committed: ${line < have.length ? JSON.stringify(have[line]) : '<end of file>'}`,
  `  composed:  ${line < want.length ? JSON.stringify(want[line]) : '<end of file>'}`,
  `  (${have.length} vs ${want.length} lines) run \`make compose\` (or \`npm run compose\` in gateway/) and commit the result`,
]);
