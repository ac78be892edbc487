import { acceptedBySecond } from './stats';

describe('acceptedBySecond', () => {
  it('counts accepted purchases per second since the start and compares the first full second with the best', () => {
    // 2 accepted in second 0, 4 in second 1, then 1 in the partial second 2 where the stock ran out.
    const ends = [100, 900, 950, 1000, 1200, 1500, 1999, 2300, 2500];
    const statuses = [202, 202, 429, 202, 202, 202, 202, 202, 409];
    expect(acceptedBySecond(ends, statuses)).toEqual({
      perSecond: [2, 4, 1],
      fullSeconds: 2,
      firstSecondToBest: 0.5,
    });
  });

  it('has no ratio when the stock ran out within the first second', () => {
    expect(acceptedBySecond([100, 400], [202, 202]).firstSecondToBest).toBeUndefined();
  });
});
