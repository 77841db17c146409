/** The connection string an attachment uses, and how long it waits for PostgreSQL to answer. */
import { postgresTimeoutSeconds, withClientEncoding, withConnectTimeout } from '../../src/engine/postgres-attach';

describe('withConnectTimeout', () => {
  it('adds connect_timeout to a URI, after its other parameters', () => {
    expect(withConnectTimeout('postgresql://u:p@db:5432/shop', 30)).toBe('postgresql://u:p@db:5432/shop?connect_timeout=30');
    expect(withConnectTimeout('postgres://db/shop?sslmode=require', 30)).toBe('postgres://db/shop?sslmode=require&connect_timeout=30');
  });

  it('adds it to a keyword/value string', () => {
    expect(withConnectTimeout('host=db dbname=shop', 30)).toBe('host=db dbname=shop connect_timeout=30');
  });

  it('keeps the one the string sets', () => {
    expect(withConnectTimeout('postgresql://db/shop?sslmode=require&connect_timeout=5', 30)).toBe('postgresql://db/shop?sslmode=require&connect_timeout=5');
    expect(withConnectTimeout('host=db connect_timeout = 5', 30)).toBe('host=db connect_timeout = 5');
  });
});

describe('withClientEncoding', () => {
  it('adds client_encoding after one the string sets, which libpq then overrides', () => {
    expect(withClientEncoding('postgresql://db/shop?client_encoding=LATIN1', 'UTF8')).toBe('postgresql://db/shop?client_encoding=LATIN1&client_encoding=UTF8');
    expect(withClientEncoding('host=db client_encoding=LATIN1', 'SQL_ASCII')).toBe('host=db client_encoding=LATIN1 client_encoding=SQL_ASCII');
  });
});

describe('postgresTimeoutSeconds', () => {
  it('is 30 unless CDCFLOW_PG_TIMEOUT_SECONDS says otherwise', () => {
    expect(postgresTimeoutSeconds({}, {})).toBe(30);
    expect(postgresTimeoutSeconds({}, { CDCFLOW_PG_TIMEOUT_SECONDS: '2' })).toBe(2);
  });

  it('refuses what is not a whole number of seconds, naming the variable', () => {
    for (const value of ['0', '1.5', 'ten', '-3']) {
      expect(() => postgresTimeoutSeconds({ table: 't' }, { CDCFLOW_PG_TIMEOUT_SECONDS: value })).toThrow(`CDCFLOW_PG_TIMEOUT_SECONDS must be a whole number of seconds, not "${value}"`);
    }
  });
});
