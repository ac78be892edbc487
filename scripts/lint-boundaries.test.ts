import { ESLint, type Linter } from 'eslint';
import * as path from 'node:path';

// The layer rule lives in eslint.config.js as import patterns per folder: a typo there, or a folder renamed, would
// let it match nothing and pass silently. These run the real config on small sources placed in each layer.
const root = path.resolve(__dirname, '..');
const tseslint = require('typescript-eslint');
const config: Linter.Config[] = [
  ...require('../eslint.config.js'),
  // The sources below are not files of the TypeScript program; the layer rule needs no types.
  tseslint.configs.disableTypeChecked,
];
const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });

async function layerErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('import boundaries between service layers', () => {
  it.each([
    ['domain', 'infrastructure', "import { Repo } from '../infrastructure/prisma/sale-repository';\nexport { Repo };"],
    ['domain', 'api', "export { handlers } from '../api/handlers';"],
    [
      'domain',
      'application',
      "import type { SaleRepository } from '../application/ports';\nexport type { SaleRepository };",
    ],
    ['domain', 'the Prisma client', "export { PrismaClient } from '../generated/prisma/client';"],
    [
      'application',
      'infrastructure',
      "import type { KafkaSignals } from '../infrastructure/kafka';\nexport type { KafkaSignals };",
    ],
    ['application', 'api', "export * from '../api';"],
  ])('when a file in %s/ imports %s, then lint fails naming the layer rule', async (layer, _target, source) => {
    const errors = await layerErrors(`services/inventory/src/${layer}/boundary-check.ts`, `${source}\n`);

    expect(errors).toEqual([expect.stringMatching(new RegExp(`^no-restricted-imports: .* ${layer}/ must not import`))]);
  });

  it('when a file sits in a folder below its layer, then climbing out of the layer still fails', async () => {
    const errors = await layerErrors(
      'services/order/src/domain/rules/boundary-check.ts',
      "export { OrderRecord } from '../../infrastructure/prisma/order-record';\n",
    );

    expect(errors).toEqual([expect.stringMatching(/^no-restricted-imports: .* domain\/ must not import/)]);
  });

  it('when layers import inwards, from packages or their own folder, then lint passes', async () => {
    const inwards = [
      "import { validateTerms } from '../domain/sale';",
      "import type { SaleRepository } from './ports';",
      "import { AppError } from '@flash-sale/errors';",
      "import type { apiVersion } from './api-version';",
      'export { validateTerms, AppError };',
      'export type { SaleRepository, apiVersion };',
    ].join('\n');

    expect(await layerErrors('services/inventory/src/application/boundary-check.ts', `${inwards}\n`)).toEqual([]);
    expect(
      await layerErrors(
        'services/inventory/src/infrastructure/boundary-check.ts',
        "import type { SaleRepository } from '../application/ports';\nexport type { SaleRepository };\n",
      ),
    ).toEqual([]);
  });

  it('when a unit test beside application code wires a real adapter, then lint passes', async () => {
    const source =
      "import { SimulatedProvider } from '../infrastructure/simulated-provider';\nnew SimulatedProvider();\n";

    expect(await layerErrors('services/payment/src/application/boundary-check.test.ts', source)).toEqual([]);
  });
});
