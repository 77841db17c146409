import { memoryBytes, orderedMemoryLimit } from '../../src/engine/duckdb';

describe('the order-keeping instance', () => {
  it('gets a quarter of the memory limit, 1 GB without one', () => {
    expect(memoryBytes('2GB')).toBe(2e9);
    expect(memoryBytes('512 MiB')).toBe(512 * 2 ** 20);
    expect(memoryBytes('lots')).toBeUndefined();
    expect(orderedMemoryLimit('2GB')).toBe('476MiB');
    expect(orderedMemoryLimit('8MB')).toBe('64MiB');
    expect(orderedMemoryLimit(undefined)).toBe('1GB');
    expect(orderedMemoryLimit('lots')).toBe('1GB');
  });
});
