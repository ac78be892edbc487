/** `cluster-key-slot` (installed with ioredis) ships no types: the Redis Cluster slot of a key, 0-16383. */
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  namespace calculateSlot {
    /** The one slot of all keys, or -1 when they span more than one. */
    function generateMulti(keys: (string | Buffer)[]): number;
  }
  export = calculateSlot;
}
