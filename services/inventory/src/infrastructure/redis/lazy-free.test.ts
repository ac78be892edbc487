import type { Logger } from '@flash-sale/logging';
import type { Redis } from 'ioredis';
import { checkLazyFree } from './lazy-free';

const setup = (config: () => Promise<string[]>) => {
  const warn = jest.fn();
  const redis = { config: jest.fn(config) } as unknown as Redis;
  return { warn, run: () => checkLazyFree(redis, { warn } as unknown as Logger) };
};

describe('checkLazyFree', () => {
  it('when every lazy-free setting is on, then it says nothing', async () => {
    const { warn, run } = setup(async () => [
      'lazyfree-lazy-eviction',
      'no',
      'lazyfree-lazy-expire',
      'yes',
      'lazyfree-lazy-server-del',
      'yes',
      'lazyfree-lazy-user-del',
      'yes',
    ]);
    await run();
    expect(warn).not.toHaveBeenCalled();
  });

  it('when one is off, then it warns naming it', async () => {
    const { warn, run } = setup(async () => [
      'lazyfree-lazy-expire',
      'no',
      'lazyfree-lazy-server-del',
      'yes',
      'lazyfree-lazy-user-del',
      'yes',
    ]);
    await run();
    expect(warn).toHaveBeenCalledWith({ off: ['lazyfree-lazy-expire'] }, expect.stringContaining('inline'));
  });

  it('when Redis refuses CONFIG, then it warns and does not throw', async () => {
    const { warn, run } = setup(async () => {
      throw new Error("ERR unknown command 'CONFIG'");
    });
    await expect(run()).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
