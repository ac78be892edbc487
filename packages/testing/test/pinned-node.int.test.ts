/**
 * scripts/pinned-node.sh, which `npm start`, `npm test`, the bench and CI put first on PATH: the node it gives is
 * the major version .node-version pins, whatever the machine's own node is (fetched into .cache/node otherwise).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'scripts', 'pinned-node.sh');
const pinned = readFileSync(join(root, '.node-version'), 'utf8').trim();
const run = (...args: string[]) => execFileSync('bash', [script, ...args], { cwd: root, encoding: 'utf8' }).trim();

describe('scripts/pinned-node.sh', () => {
  it('when asked for a directory, then it holds a node of the pinned major version', () => {
    const version = execFileSync(join(run(), 'node'), ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    expect(version.split('.')[0]).toBe(pinned.split('.')[0]);
  });

  it('when given a command, then the command runs with that node first on PATH', () => {
    expect(run('node', '-p', 'process.versions.node').split('.')[0]).toBe(pinned.split('.')[0]);
  });
});
