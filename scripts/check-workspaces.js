#!/usr/bin/env node
// @ts-check
// `npm run lint:workspaces`: the lists of workspaces that JSON files cannot compute must match package.json's
// `workspaces`. Prints each mismatch, naming the workspace and the file, and exits 1 when there is one.
//   - tsconfig.json `references`: every workspace with a tsconfig.json (`tsc -b` builds what it lists), no others;
//   - tsconfig.check.json and tsconfig.source.json `paths`: every library's name resolves to its src/;
//   - the root `generate` script runs every workspace's own, @flash-sale/contracts first;
//   - the Tiltfile's PACKAGES and SERVICES (Starlark cannot read package.json): packages/* and services/*.
// jest.config.js computes its list from scripts/lib/workspaces.js, so it needs no check.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const { workspaces } = require('./lib/workspaces');

/** @param {string} file @returns {any} */
function readTsconfig(file) {
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return config;
}

/** A relative path as `dir/sub`, whatever way it was written (./dir/sub/, dir\sub). */
const normal = (/** @type {string} */ p) => path.posix.normalize(p.replace(/\\/g, '/')).replace(/\/$/, '');

/**
 * Where TypeScript's `paths` send an import of `name` (an exact key first, else the `*` pattern with the longest
 * prefix), relative to the repository root; undefined when no key matches.
 * @param {Record<string, string[]>} paths @param {string} baseUrl @param {string} name
 */
function resolvePaths(paths, baseUrl, name) {
  let targets = paths[name];
  if (!targets) {
    let best = -1;
    for (const [key, value] of Object.entries(paths)) {
      const [prefix, suffix, more] = key.split('*');
      if (suffix === undefined || more !== undefined) continue;
      const fits = name.startsWith(prefix) && name.endsWith(suffix) && name.length >= prefix.length + suffix.length;
      if (fits && prefix.length > best) {
        best = prefix.length;
        const star = name.slice(prefix.length, name.length - suffix.length);
        targets = value.map((target) => target.replace('*', star));
      }
    }
  }
  return targets?.map((target) => normal(path.posix.join(baseUrl, target)));
}

/** @param {string} root @returns {string[]} the mismatches, one sentence each */
function problems(root) {
  const found = [];
  const all = workspaces(root);

  const built = all.filter(({ dir }) => fs.existsSync(path.join(root, dir, 'tsconfig.json'))).map(({ dir }) => dir);
  /** @type {{ path: string }[]} */
  const references = readTsconfig(path.join(root, 'tsconfig.json')).references ?? [];
  const referenced = references.map((reference) => normal(reference.path));
  for (const dir of built.filter((dir) => !referenced.includes(dir))) {
    found.push(`tsconfig.json: references lack the workspace ${dir} (add { "path": "${dir}" })`);
  }
  for (const dir of referenced.filter((dir) => !built.includes(dir))) {
    found.push(`tsconfig.json: references ${dir}, which is not a workspace with a tsconfig.json`);
  }

  for (const file of ['tsconfig.check.json', 'tsconfig.source.json']) {
    const options = readTsconfig(path.join(root, file)).compilerOptions ?? {};
    const paths = options.paths ?? {};
    for (const { name, dir } of all.filter((workspace) => workspace.library)) {
      const targets = resolvePaths(paths, normal(options.baseUrl ?? '.'), name);
      if (!targets?.includes(`${dir}/src`)) {
        found.push(`${file}: paths send ${name} to ${targets?.join(', ') ?? 'nothing'}, not to its sources ${dir}/src`);
      }
    }
  }

  const generate = readJson(path.join(root, 'package.json')).scripts?.generate ?? '';
  if (!/--workspaces\b/.test(generate) || !/--if-present\b/.test(generate)) {
    found.push('package.json: the generate script must run `generate --workspaces --if-present`, not a list by hand');
  }
  const first = all.find((workspace) => workspace.scripts.generate);
  if (first && first.name !== '@flash-sale/contracts') {
    found.push(
      `package.json: workspaces run generate in their order, and ${first.name} now comes before @flash-sale/contracts`,
    );
  }
  found.push(
    ...tiltfileProblems(
      root,
      all.map(({ dir }) => dir),
    ),
  );
  return found;
}

/** The Tiltfile's hand-written lists against the workspaces under packages/ and services/. */
function tiltfileProblems(/** @type {string} */ root, /** @type {string[]} */ dirs) {
  const tiltfile = path.join(root, 'Tiltfile');
  if (!fs.existsSync(tiltfile)) return [];
  const text = fs.readFileSync(tiltfile, 'utf8');
  const found = [];
  for (const [list, folder] of [
    ['PACKAGES', 'packages'],
    ['SERVICES', 'services'],
  ]) {
    const match = new RegExp(`^${list} = \\[([^\\]]*)\\]`, 'm').exec(text);
    const listed = match ? [...match[1].matchAll(/'([^']+)'/g)].map((m) => m[1]).sort() : [];
    const expected = dirs.filter((dir) => dir.startsWith(`${folder}/`)).map((dir) => dir.slice(folder.length + 1));
    const sorted = [...expected].sort();
    if (listed.join() !== sorted.join()) {
      found.push(
        `Tiltfile: ${list} is [${listed.join(', ')}], but the workspaces in ${folder}/ are [${sorted.join(', ')}]`,
      );
    }
  }
  return found;
}

/** @param {string} file */
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

module.exports = { problems };

if (require.main === module) {
  const found = problems(path.resolve(__dirname, '..'));
  for (const problem of found) console.error(`check-workspaces: ${problem}`);
  if (found.length > 0) process.exit(1);
}
