/** The lock wait a PostgreSQL stage reports on run's progress line. */
import { lockWaitNote } from '../../src/engine/postgres-waits';

describe('lockWaitNote', () => {
  it('names the variable, the table, the session holding the lock, its application and state', () => {
    expect(lockWaitNote('SHOP_DB_URL', { waited: 42, relation: 'sales.orders', blocker: 4711, application_name: 'psql', state: 'idle in transaction', blocker_seconds: 300 })).toBe(
      'PostgreSQL ($SHOP_DB_URL): waiting 42s for a lock on sales.orders, held by session 4711 (psql, idle in transaction for 300s)',
    );
  });

  it("leaves out what PostgreSQL does not show of another role's session", () => {
    expect(lockWaitNote('DB', { waited: 5, relation: null, blocker: 9, application_name: '', state: null, blocker_seconds: null })).toBe(
      'PostgreSQL ($DB): waiting 5s for a lock, held by session 9',
    );
  });
});
