/** Which committed watermark a delta reads above, given the watermark column configured now. */
import { baseWatermark } from '../../src/activities/watermark';
import type { TableConfig } from '../../src/config/types';

const table = (watermark: string | null) => ({ source: { format: 'postgres', watermark } }) as TableConfig;
const committed = (watermarkColumn: string | null) => ({ watermark: '2024-01-01 10:00:00', watermarkColumn });

describe('baseWatermark', () => {
  it('is the committed value for the same column, in any case, and for commits that do not name theirs', () => {
    expect(baseWatermark(table('updated_at'), committed('updated_at'))).toBe('2024-01-01 10:00:00');
    expect(baseWatermark(table('Updated_At'), committed('updated_at'))).toBe('2024-01-01 10:00:00');
    expect(baseWatermark(table('updated_at'), committed(null))).toBe('2024-01-01 10:00:00');
  });

  it('is none for another column, and when no column is configured (nothing to carry to a later commit)', () => {
    expect(baseWatermark(table('created_at'), committed('updated_at'))).toBeNull();
    expect(baseWatermark(table(null), committed('updated_at'))).toBeNull();
    expect(baseWatermark(table(null), committed(null))).toBeNull();
  });
});
