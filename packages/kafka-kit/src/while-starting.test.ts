import { KafkaJSError, KafkaJSNonRetriableError } from 'kafkajs';
import { Backoff } from './backoff';
import { whileStarting } from './while-starting';

const logger = { warn: jest.fn() };
const quick = () => ({ backoff: new Backoff(1, 1) });
// What a broker still loading its group coordinator answers (NOT_COORDINATOR, which kafkajs marks retriable).
const notCoordinator = () =>
  new KafkaJSError('This is not the correct coordinator for this group', { retriable: true });

describe('whileStarting', () => {
  it('when the broker refuses twice with a retriable error, then the third answer is returned', async () => {
    const call = jest
      .fn()
      .mockRejectedValueOnce(notCoordinator())
      .mockRejectedValueOnce(notCoordinator())
      .mockResolvedValue('offsets');
    await expect(whileStarting('fetch offsets', call, logger, quick())).resolves.toBe('offsets');
    expect(call).toHaveBeenCalledTimes(3);
  });

  it('when the error is not retriable, then it is thrown at once', async () => {
    const call = jest.fn().mockRejectedValue(new KafkaJSNonRetriableError('bad topic'));
    await expect(whileStarting('fetch offsets', call, logger, quick())).rejects.toThrow('bad topic');
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('when a retriable error lasts past the attempts, then it is thrown', async () => {
    const call = jest.fn().mockRejectedValue(notCoordinator());
    await expect(whileStarting('fetch offsets', call, logger, { ...quick(), attempts: 3 })).rejects.toThrow(
      'coordinator',
    );
    expect(call).toHaveBeenCalledTimes(3);
  });
});
