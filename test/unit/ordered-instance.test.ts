import { memoryBytes, orderedMemoryLimit } from '../../src/engine/duckdb';

describe('the order-keeping instance', () => {
  it('gets a quarter of the memory limit, 1 GB without one, and is not used under a 1 GiB limit', () => {
    expect(memoryBytes('2GB')).toBe(2e9);
    expect(memoryBytes('512 MiB')).toBe(512 * 2 ** 20);
    expect(memoryBytes('lots')).toBeUndefined();
    expect(orderedMemoryLimit('2GB')).toBe('476MiB');
    expect(orderedMemoryLimit('200MB')).toBeUndefined();
    expect(orderedMemoryLimit('1GiB')).toBe('256MiB');
    expect(orderedMemoryLimit(undefined)).toBe('1GB');
    expect(orderedMemoryLimit('lots')).toBe('1GB');
  });
});
