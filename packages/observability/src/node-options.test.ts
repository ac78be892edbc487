import { NODE_OPTIONS, V8_RUNTIME_FLAGS, applyV8RuntimeFlags, nodeOptions } from './node-options';

describe('the mesh node flags', () => {
  it("when a child is started, then its NODE_OPTIONS is the mesh's followed by the environment's, which win", () => {
    expect(nodeOptions({})).toBe(NODE_OPTIONS);
    expect(nodeOptions({ NODE_OPTIONS: ' --max-old-space-size=512 ' })).toBe(
      `${NODE_OPTIONS} --max-old-space-size=512`,
    );
  });

  it('when the command line sets a runtime flag either way, then it is left as the command line says', () => {
    expect(applyV8RuntimeFlags(['--flush-bytecode'])).toEqual([]);
    expect(applyV8RuntimeFlags(['--no-flush_bytecode'])).toEqual([]);
  });

  it('when the command line does not, then the flags are set', () => {
    expect(applyV8RuntimeFlags(['--require', 'x'])).toEqual(V8_RUNTIME_FLAGS);
  });
});
