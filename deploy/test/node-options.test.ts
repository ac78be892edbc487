/**
 * The mesh's node flags reach pods from the images (the Dockerfile's NODE_OPTIONS, the value local runs use too),
 * and `config.nodeOptions` replaces them for every component.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_OPTIONS } from '@flash-sale/observability';
import { root, template } from './helm';

const configMap = (args: string[]) => {
  const rendered = template(args);
  expect(rendered.stderr).toBe('');
  const config = rendered.objects.find(
    (object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-config'),
  );
  return (config?.data ?? {}) as Record<string, string>;
};

describe('node flags', () => {
  it('when the images are built, then their NODE_OPTIONS is the one local runs use', () => {
    const dockerfile = readFileSync(path.join(root, 'deploy/docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^\s+NODE_OPTIONS="([^"]*)"$/m);
    expect(/^\s+NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)![1]).toBe(NODE_OPTIONS);
  });

  it('when config.nodeOptions is empty, then the chart sets no NODE_OPTIONS and the images keep theirs', () => {
    expect(configMap([])).not.toHaveProperty('NODE_OPTIONS');
  });

  it('when config.nodeOptions is set, then every component gets it as NODE_OPTIONS', () => {
    expect(configMap(['--set', 'config.nodeOptions=--max-old-space-size=256'])).toMatchObject({
      NODE_OPTIONS: '--max-old-space-size=256',
    });
  });

  it('when config.nodeOptions is not a list of flags, then the install fails naming it', () => {
    const rendered = template(['--set', 'config.nodeOptions=max-old-space-size=256']);
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toMatch(/nodeOptions/);
  });
});
