import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const { problems } = require('./check-workspaces') as { problems: (root: string) => string[] };

/** A repository in a temporary folder: package.json with `workspaces`, two libraries and an app, all listed. */
function fixture(): { root: string; write: (file: string, json: unknown) => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-workspaces-'));
  const write = (file: string, json: unknown) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), JSON.stringify(json));
  };
  const library = (dir: string, name: string, scripts = {}) => {
    write(`${dir}/package.json`, { name, scripts });
    write(`${dir}/tsconfig.json`, {});
    fs.mkdirSync(path.join(root, dir, 'src'));
    fs.writeFileSync(path.join(root, dir, 'src', 'index.ts'), 'export {};\n');
  };
  write('package.json', {
    workspaces: ['packages/*', 'app'],
    scripts: { generate: 'npm run --silent generate --workspaces --if-present' },
  });
  library('packages/config', '@flash-sale/config');
  library('packages/contracts', '@flash-sale/contracts', { generate: 'node generate.js' });
  write('app/package.json', { name: '@flash-sale/app', scripts: { generate: 'prisma generate' } });
  write('app/tsconfig.json', {});
  write('tsconfig.json', {
    files: [],
    references: [{ path: 'app' }, { path: 'packages/config' }, { path: './packages/contracts/' }],
  });
  const paths = { baseUrl: '.', paths: { '@flash-sale/*': ['packages/*/src'] } };
  write('tsconfig.check.json', { compilerOptions: paths });
  write('tsconfig.source.json', { compilerOptions: paths });
  return { root, write };
}

describe('check-workspaces', () => {
  const roots: string[] = [];
  const make = () => {
    const made = fixture();
    roots.push(made.root);
    return made;
  };
  afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

  it('when every list matches the workspaces, then there is nothing to report', () => {
    expect(problems(make().root)).toEqual([]);
  });

  it('when run on this repository, then there is nothing to report', () => {
    expect(problems(path.resolve(__dirname, '..'))).toEqual([]);
  });

  it('when a workspace is missing from tsconfig.json references, then the check names it', () => {
    const { root, write } = make();
    write('tsconfig.json', { files: [], references: [{ path: 'packages/config' }, { path: 'packages/contracts' }] });

    expect(problems(root)).toEqual([expect.stringMatching(/^tsconfig\.json: references lack the workspace app /)]);
  });

  it('when tsconfig.json references a folder that is not a workspace, then the check names it', () => {
    const { root, write } = make();
    write('tsconfig.json', {
      references: [{ path: 'app' }, { path: 'packages/config' }, { path: 'packages/contracts' }, { path: 'old' }],
    });

    expect(problems(root)).toEqual([expect.stringMatching(/^tsconfig\.json: references old, which is not/)]);
  });

  it('when paths send a library anywhere but its sources, then the check names the file and the library', () => {
    const { root, write } = make();
    write('tsconfig.source.json', {
      compilerOptions: {
        baseUrl: '.',
        paths: { '@flash-sale/config': ['packages/config/dist'], '@flash-sale/*': ['packages/*/src'] },
      },
    });
    write('tsconfig.check.json', { compilerOptions: { baseUrl: '.', paths: {} } });

    expect(problems(root).sort()).toEqual([
      'tsconfig.check.json: paths send @flash-sale/config to nothing, not to its sources packages/config/src',
      'tsconfig.check.json: paths send @flash-sale/contracts to nothing, not to its sources packages/contracts/src',
      'tsconfig.source.json: paths send @flash-sale/config to packages/config/dist, not to its sources packages/config/src',
    ]);
  });

  it('when the generate script names workspaces by hand, then the check refuses it', () => {
    const { root, write } = make();
    write('package.json', {
      workspaces: ['packages/*', 'app'],
      scripts: { generate: 'npm run generate -w @flash-sale/contracts && npm run generate -w app' },
    });

    expect(problems(root)).toEqual([expect.stringMatching(/^package\.json: the generate script must run/)]);
  });

  it('when a workspace with a generate script comes before contracts, then the check says so', () => {
    const { root, write } = make();
    write('packages/config/package.json', { name: '@flash-sale/config', scripts: { generate: 'true' } });

    expect(problems(root)).toEqual([
      expect.stringMatching(/@flash-sale\/config now comes before @flash-sale\/contracts/),
    ]);
  });

  it('when the Tiltfile lists a package that is not a workspace, or misses one, then the check names both lists', () => {
    const { root } = make();
    fs.writeFileSync(path.join(root, 'Tiltfile'), "SERVICES = []\nPACKAGES = ['config', 'old']\n");

    expect(problems(root)).toEqual([
      'Tiltfile: PACKAGES is [config, old], but the workspaces in packages/ are [config, contracts]',
    ]);
  });
});
