#!/usr/bin/env node
/**
 * Shrinks a production `node_modules` (after `npm ci --omit=dev`) to what the images run. Used by
 * deploy/docker/Dockerfile only, in its prod-deps stage:
 *
 *   node prune-runtime-deps.js ROOT [--without NAME]... [--prisma-provider NAME]...
 *
 * 1. Reachability: starting from the dependencies of ROOT's package.json and of every workspace, follow
 *    `dependencies`, `optionalDependencies` and non-optional `peerDependencies` the way Node resolves them (nested
 *    node_modules first, then each parent's), never entering the packages named by --without. Every installed
 *    package that is not reached is removed. The Dockerfile passes `--without prisma`: the Prisma CLI (with its
 *    Studio, dev server, PGlite and effect, about 200 MB) only runs for `flash-db generate` at build time; the
 *    runtime uses @prisma/client and migrations use @prisma/schema-engine-wasm.
 * 2. @prisma/client ships a query compiler for every database; only the --prisma-provider ones (CommonJS builds) are
 *    kept. A schema using another provider then fails at start-up naming the missing file: add it here.
 * 3. Type declarations and source maps of dependencies are deleted (never read at runtime).
 * Prints what it removed and the sizes before and after.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const root = path.resolve(args.shift() ?? '.');
const without = new Set();
const providers = new Set();
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--without') without.add(args[(i += 1)]);
  else if (args[i] === '--prisma-provider') providers.add(args[(i += 1)]);
  else throw new Error(`unknown argument ${args[i]}`);
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const exists = (file) => fs.existsSync(file);

function duBytes(dir) {
  let total = 0;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) total += fs.lstatSync(p).size;
    }
  };
  if (exists(dir)) walk(dir);
  return total;
}
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Node's lookup: from a package folder upwards, the first node_modules/NAME that exists (real path). */
function resolvePackage(fromDir, name) {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (exists(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function dependencyNames(manifest) {
  const names = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const optionalPeers = manifest.peerDependenciesMeta ?? {};
  for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
    if (!optionalPeers[peer]?.optional) names.add(peer);
  }
  return [...names].filter((name) => !without.has(name));
}

// Workspaces are the packages npm linked from ROOT/node_modules to folders outside it.
const modules = path.join(root, 'node_modules');
const before = duBytes(modules);
const reached = new Set();
const queue = [root];
for (const scopeOrName of fs.readdirSync(modules)) {
  const names = scopeOrName.startsWith('@')
    ? fs.readdirSync(path.join(modules, scopeOrName)).map((n) => `${scopeOrName}/${n}`)
    : [scopeOrName];
  for (const name of names) {
    const link = path.join(modules, name);
    if (fs.lstatSync(link).isSymbolicLink()) queue.push(fs.realpathSync(link));
  }
}
while (queue.length > 0) {
  const dir = queue.pop();
  if (reached.has(dir)) continue;
  reached.add(dir);
  for (const name of dependencyNames(readJson(path.join(dir, 'package.json')))) {
    const found = resolvePackage(dir, name);
    if (found) queue.push(found);
    // A missing optional or platform-specific dependency is normal; npm ci already failed on a missing required one.
  }
}

// Every installed package folder (top level and nested), deepest last, so nested ones are judged on their own.
const removed = [];
function sweep(nodeModules) {
  if (!exists(nodeModules)) return;
  for (const entry of fs.readdirSync(nodeModules)) {
    if (entry === '.bin' || entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@')
      ? fs.readdirSync(path.join(nodeModules, entry)).map((n) => path.join(nodeModules, entry, n))
      : [path.join(nodeModules, entry)];
    for (const dir of dirs) {
      if (fs.lstatSync(dir).isSymbolicLink()) continue; // workspaces
      if (!reached.has(dir)) {
        removed.push(path.relative(modules, dir));
        fs.rmSync(dir, { recursive: true, force: true });
      } else {
        sweep(path.join(dir, 'node_modules'));
      }
    }
    if (entry.startsWith('@') && fs.readdirSync(path.join(nodeModules, entry)).length === 0) {
      fs.rmdirSync(path.join(nodeModules, entry));
    }
  }
  // Command links into removed packages.
  const bin = path.join(nodeModules, '.bin');
  if (exists(bin)) {
    for (const link of fs.readdirSync(bin)) {
      if (!exists(path.join(bin, link))) fs.rmSync(path.join(bin, link), { force: true });
    }
  }
}
sweep(modules);
const afterReach = duBytes(modules);

// Query compilers of unused Prisma providers, and ESM copies of the used ones (the services are CommonJS).
const prismaRuntime = path.join(modules, '@prisma', 'client', 'runtime');
let compilers = 0;
if (providers.size > 0 && exists(prismaRuntime)) {
  for (const file of fs.readdirSync(prismaRuntime)) {
    const match = /^query_compiler_\w+_bg\.(\w+)\./.exec(file);
    if (match && (!providers.has(match[1]) || file.endsWith('.mjs'))) {
      fs.rmSync(path.join(prismaRuntime, file));
      compilers += 1;
    }
  }
}

// Declarations and source maps of dependencies.
let files = 0;
function strip(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) strip(p);
    else if (entry.isFile() && /(\.d\.[cm]?ts|\.map)$/.test(entry.name)) {
      fs.rmSync(p);
      files += 1;
    }
  }
}
strip(modules);
const after = duBytes(modules);

console.log(
  `prune-runtime-deps: ${reached.size} packages reached; removed ${removed.length} unreached packages ` +
    `(${mb(before - afterReach)}), ${compilers} unused Prisma query compiler files, ${files} .d.ts/.map files; ` +
    `node_modules ${mb(before)} -> ${mb(after)}`,
);
if (process.env.PRUNE_VERBOSE) console.log(removed.join('\n'));
