import { flameFrames, type CpuProfile } from './flame';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/**
 * (root) → handle (app) → parse (a package), twice as two nodes with the same frame; (root) → a timer (Node.js);
 * and idle time. One sample a millisecond.
 */
const profile: CpuProfile = {
  startTime: 0,
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
    { id: 2, callFrame: frame('handle', 'file:///srv/gateway/dist/api/router.js', 9), children: [3, 6] },
    { id: 3, callFrame: frame('parse', 'file:///srv/node_modules/body-parser/lib/json.js', 74) },
    { id: 6, callFrame: frame('parse', 'file:///srv/node_modules/body-parser/lib/json.js', 74) },
    { id: 4, callFrame: frame('listOnTimeout', 'node:internal/timers', 580) },
    { id: 5, callFrame: frame('(idle)') },
  ],
  samples: [3, 6, 2, 4, 5, 5],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
};

describe('flameFrames', () => {
  it('when a profile is drawn whole, then each frame is as wide as its time and its callees’, idle left out', () => {
    const { frames, busyMs } = flameFrames(profile);
    expect(busyMs).toBe(4);
    expect(frames).toEqual([
      { name: 'handle gateway/api/router.js:10', group: 'app', depth: 0, startMs: 0, ms: 3 },
      // The two nodes with the same frame under one caller are one frame.
      { name: 'parse body-parser:75', group: 'body-parser', depth: 1, startMs: 0, ms: 2 },
      { name: 'listOnTimeout node:internal/timers:581', group: 'node', depth: 0, startMs: 3, ms: 1 },
    ]);
  });

  it('when a window is given, then only the samples taken in it count, and frames left empty are dropped', () => {
    // Samples are stamped 1,000 to 6,000 µs: this keeps the third and the fourth.
    const { frames, busyMs } = flameFrames(profile, { fromUs: 2_500, toUs: 4_000 });
    expect(busyMs).toBe(2);
    expect(frames.map(({ name, ms }) => [name, ms])).toEqual([
      ['handle gateway/api/router.js:10', 1],
      ['listOnTimeout node:internal/timers:581', 1],
    ]);
  });

  it('when a frame is narrower than the share asked for, then it and its callees are dropped', () => {
    const { frames } = flameFrames(profile, undefined, 0.5);
    expect(frames.map((f) => f.name)).toEqual(['handle gateway/api/router.js:10', 'parse body-parser:75']);
  });
});
