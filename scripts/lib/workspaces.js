// @ts-check
// The npm workspaces, read from the root package.json as npm expands them: the patterns in their order, a
// `dir/*` pattern as the folders below dir that hold a package.json, in name order. jest.config.js and
// scripts/check-workspaces.js take every list of workspaces from here instead of keeping their own.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * @typedef {{ dir: string, name: string, scripts: Record<string, string>, library: boolean }} Workspace
 * `dir` is relative to the root, with forward slashes; `library`: imported by name, from its src/index.ts.
 */

/** @param {string} file */
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** @param {string} root @param {string} pattern @returns {string[]} */
function expand(root, pattern) {
  if (!/[*?[{]/.test(pattern)) return [pattern];
  const parent = pattern.slice(0, -2);
  if (!pattern.endsWith('/*') || /[*?[{]/.test(parent)) {
    throw new Error(`package.json workspaces: only "dir" and "dir/*" patterns are understood, not "${pattern}"`);
  }
  return fs
    .readdirSync(path.join(root, parent), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${parent}/${entry.name}`)
    .sort();
}

/** @param {string} [root] the repository (a folder with a package.json that has workspaces) @returns {Workspace[]} */
function workspaces(root = ROOT) {
  /** @type {string[]} */
  const patterns = readJson(path.join(root, 'package.json')).workspaces ?? [];
  return patterns
    .flatMap((pattern) => expand(root, pattern))
    .filter((dir) => fs.existsSync(path.join(root, dir, 'package.json')))
    .map((dir) => {
      const pkg = readJson(path.join(root, dir, 'package.json'));
      const library = fs.existsSync(path.join(root, dir, 'src', 'index.ts'));
      return { dir, name: pkg.name, scripts: pkg.scripts ?? {}, library };
    });
}

module.exports = { workspaces };
