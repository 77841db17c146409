/**
 * Property test of change-record tables against a naive oracle. Random event streams (inserts,
 * updates, deletes, re-inserts after deletes, duplicate copies) are cut into batches that are
 * delivered out of order, some twice, with events straying into later batches; each delivery is
 * a business date run through the real workflow. After every date, the current state must equal
 * what replaying every event delivered so far, one by one in `seq` order, gives, and the date's
 * history partition how that state changed.
 *
 * Many streams run at once: each stream owns its keys (the `stream` key column), so the streams
 * of a table are independent, and one run per date carries them all. Three tables (CSV, JSON and Debezium
 * sources) hold STREAMS_PER_TABLE streams each. CDCFLOW_PROPERTY_SEED picks another seed.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { datasetFolders, type Harness, readRows, runDataset, startHarness, tableResult } from '../support/harness';
import { seededRandom } from '../support/seeded-random';

const SEED = Number(process.env.CDCFLOW_PROPERTY_SEED ?? 20240101);
const STREAMS_PER_TABLE = 30;
const BATCHES = 5;
const REDELIVERIES = 2;
const DATES = Array.from({ length: BATCHES + REDELIVERIES }, (_, i) => `2024-02-${String(i + 1).padStart(2, '0')}`);

interface ChangeEvent {
  op: 'I' | 'U' | 'D';
  seq: number;
  stream: number;
  id: number;
  v1: number | null;
  v2: string | null;
}

/** One stream's deliveries: DATES.length batches of events (a batch's index may repeat: re-delivery). */
function streamDeliveries(stream: number, rand: () => number): ChangeEvent[][] {
  const int = (n: number) => Math.floor(rand() * n);
  const keys = 100 + int(200);
  const live = new Set<number>();
  const events: ChangeEvent[] = [];
  for (let seq = 1; seq <= keys * 2; seq++) {
    const id = int(keys);
    const roll = rand();
    // Live keys are mostly updated, sometimes deleted or inserted again; dead keys mostly (re-)inserted.
    const op: ChangeEvent['op'] = live.has(id) ? (roll < 0.6 ? 'U' : roll < 0.85 ? 'D' : 'I') : roll < 0.8 ? 'I' : 'D';
    if (op === 'D') live.delete(id);
    else live.add(id);
    // Few distinct values, so that some updates change nothing (N).
    events.push({ op, seq, stream, id, v1: op === 'D' ? null : int(5), v2: op === 'D' || rand() < 0.1 ? null : `v${int(3)}` });
  }
  const batches: ChangeEvent[][] = Array.from({ length: BATCHES }, () => []);
  const cuts = Array.from({ length: BATCHES - 1 }, () => int(events.length)).sort((a, b) => a - b);
  events.forEach((e, i) => {
    let b = cuts.filter((c) => c <= i).length;
    // Some events are late: they arrive with a later batch.
    if (rand() < 0.1) b += int(BATCHES - b);
    batches[b].push(e);
    // Some are delivered twice within their batch.
    if (rand() < 0.05) batches[b].push({ ...e });
  });
  for (const batch of batches) batch.sort(() => rand() - 0.5);
  const order = Array.from({ length: BATCHES }, (_, i) => i).sort(() => rand() - 0.5);
  for (let r = 0; r < REDELIVERIES; r++) {
    const at = 1 + int(order.length);
    order.splice(at, 0, order[int(at)]);
  }
  return order.map((b) => batches[b]);
}

/**
 * A batch as Debezium events over two files: inserts as `c` or snapshot reads (`r`), deletes
 * with the key only in `before` (REPLICA IDENTITY DEFAULT) or the whole row (FULL), so that copies
 * of one delete may differ there, followed by a Kafka tombstone, some events in the
 * schema/payload wrapper, and `source.lsn` (the seq) sometimes as a JSON string.
 */
function writeDebezium(folder: string, events: readonly ChangeEvent[], rand: () => number): void {
  mkdirSync(folder, { recursive: true });
  const files: string[][] = [[], []];
  events.forEach((e, i) => {
    const key = { stream: e.stream, id: e.id };
    const op = e.op === 'D' ? 'd' : e.op === 'U' ? 'u' : rand() < 0.2 ? 'r' : 'c';
    const before = rand() < 0.5 ? key : { ...key, v1: Math.floor(rand() * 5), v2: null };
    const images = e.op === 'D' ? { before, after: null } : { before: null, after: { ...key, v1: e.v1, v2: e.v2 } };
    const payload = { ...images, source: { lsn: rand() < 0.3 ? String(e.seq) : e.seq, ts_ms: 1 }, op, ts_ms: 1 };
    const lines = files[i % 2];
    lines.push(JSON.stringify(rand() < 0.3 ? { schema: { type: 'struct' }, payload } : payload));
    if (e.op === 'D') lines.push(rand() < 0.5 ? 'null' : JSON.stringify({ schema: null, payload: null }));
  });
  files.forEach((lines, f) => writeFileSync(path.join(folder, `part-${f}.json`), `${lines.join('\n')}\n`));
}

type Values = { v1: number | null; v2: string | null };

/** Per key, the newest seq of the events delivered so far (what the ordering state holds). */
function newestSeqs(events: readonly ChangeEvent[]): Map<string, number> {
  const newest = new Map<string, number>();
  for (const e of events) newest.set(`${e.stream}/${e.id}`, Math.max(e.seq, newest.get(`${e.stream}/${e.id}`) ?? -1));
  return newest;
}

/** The oracle: every delivered event replayed one by one, in seq order. */
function replay(events: readonly ChangeEvent[]): Map<string, Values> {
  const state = new Map<string, Values>();
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    const key = `${e.stream}/${e.id}`;
    if (e.op === 'D') state.delete(key);
    else state.set(key, { v1: e.v1, v2: e.v2 });
  }
  return state;
}

/** The history rows a batch must write: per key, how the state changed (D rows with the values the key had). */
function expectedHistory(before: ReadonlyMap<string, Values>, after: ReadonlyMap<string, Values>): string[] {
  const text = (op: string, key: string, v: Values) => `${op} ${key}=${String(v.v1)},${String(v.v2)}`;
  const rows: string[] = [];
  for (const [key, v] of after) {
    const held = before.get(key);
    if (!held) rows.push(text('I', key, v));
    else if (held.v1 !== v.v1 || held.v2 !== v.v2) rows.push(text('U', key, v));
  }
  for (const [key, v] of before) if (!after.has(key)) rows.push(text('D', key, v));
  return rows.sort();
}

/**
 * The counts a batch must report, from the state and the newest seq per key of every event
 * delivered before it: an event not newer than that is stale; per key the newest newer event
 * applies (I, U or N when it upserts, D when it deletes a held key); held keys it leaves are X.
 */
function expectedCounts(batch: readonly ChangeEvent[], before: ReadonlyMap<string, Values>, newestSeq: ReadonlyMap<string, number>) {
  const key = (e: ChangeEvent) => `${e.stream}/${e.id}`;
  const copies = new Map<string, number>();
  const winner = new Map<string, ChangeEvent>();
  let stale = 0;
  for (const e of batch) {
    copies.set(`${key(e)}@${e.seq}`, (copies.get(`${key(e)}@${e.seq}`) ?? 0) + 1);
    if (e.seq <= (newestSeq.get(key(e)) ?? -1)) stale++;
    else if (e.seq > (winner.get(key(e))?.seq ?? -1)) winner.set(key(e), e);
  }
  const counts = { I: 0, U: 0, D: 0, X: 0, N: 0 };
  for (const [k, e] of winner) {
    const held = before.get(k);
    if (e.op === 'D') counts.D += held ? 1 : 0;
    else if (!held) counts.I++;
    else if (held.v1 === e.v1 && held.v2 === e.v2) counts.N++;
    else counts.U++;
  }
  counts.X = [...before.keys()].filter((k) => !winner.has(k)).length;
  const kinds = (op: ChangeEvent['op']) => batch.filter((e) => e.op === op).length;
  const duplicates = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
  return { counts, changes: { events: batch.length, inserts: kinds('I'), updates: kinds('U'), deletes: kinds('D'), duplicates, stale } };
}

describe('change-record tables: property test against a naive replay oracle', () => {
  let h: Harness;
  const folders = datasetFolders('chgprop');

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    folders.removeAll();
  });

  it(`${3 * STREAMS_PER_TABLE} random streams, batches out of order and re-delivered, match the oracle after every date (seed ${SEED})`, async () => {
    const table = (name: string, format: 'csv' | 'json' | 'debezium') => ({
      name,
      mode: 'changes',
      keys: [
        { name: 'stream', type: 'integer' },
        { name: 'id', type: 'integer' },
      ],
      columns: [
        { name: 'v1', type: 'integer' },
        { name: 'v2', type: 'varchar' },
      ],
      // Debezium: ordered by its default, source.lsn.
      ...(format === 'debezium' ? { source: { format, path: `${name}/{date}/*.json` } } : { orderBy: [{ name: 'seq', type: 'bigint' }], source: { format, path: `${name}/{date}.${format}` } }),
    });
    const { dir, config } = folders.setup([table('csv_events', 'csv'), table('json_events', 'json'), table('dbz_events', 'debezium')]);
    const rand = seededRandom(SEED);
    const tables = ['csv_events', 'json_events', 'dbz_events'].map((name, t) => ({
      name,
      streams: Array.from({ length: STREAMS_PER_TABLE }, (_, s) => streamDeliveries(t * STREAMS_PER_TABLE + s, rand)),
    }));

    const cell = (v: string | number | null) => (v === null ? '' : String(v));
    const delivered = new Map<string, ChangeEvent[]>(tables.map((t) => [t.name, []]));
    const promised = new Map<string, ReturnType<typeof expectedCounts>>();
    const historyBefore = new Map<string, Map<string, Values>>();
    for (const [d, date] of DATES.entries()) {
      for (const t of tables) {
        const events = t.streams.flatMap((deliveries) => deliveries[d]);
        historyBefore.set(t.name, replay(delivered.get(t.name)!));
        promised.set(t.name, expectedCounts(events, historyBefore.get(t.name)!, newestSeqs(delivered.get(t.name)!)));
        delivered.get(t.name)!.push(...events);
        if (t.name === 'dbz_events') {
          writeDebezium(path.join(dir, t.name, date), events, rand);
          continue;
        }
        const file = path.join(dir, t.name, `${date}.${t.name.startsWith('csv') ? 'csv' : 'json'}`);
        mkdirSync(path.dirname(file), { recursive: true });
        const lines = t.name.startsWith('csv')
          ? ['op,seq,stream,id,v1,v2', ...events.map((e) => [e.op, e.seq, e.stream, e.id, e.v1, e.v2].map(cell).join(','))]
          : events.map((e) => JSON.stringify(e));
        writeFileSync(file, `${lines.join('\n')}\n`);
      }
      const outcome = await runDataset(h, config, date);
      if (!outcome.ok) throw new Error(`seed ${SEED}, ${date}: run failed: ${outcome.error}`);
      for (const t of tables) {
        const { counts, changes } = tableResult(outcome, t.name);
        expect({ table: t.name, date, counts, changes }).toEqual({ table: t.name, date, ...promised.get(t.name) });
        const partition = path.join(config.warehouse, config.dataset, t.name, 'history', `eff_start_date=${date}`, 'data.parquet');
        const historyRows = existsSync(partition) ? await readRows(h.engine, partition, 'stream, id') : [];
        expect({ table: t.name, date, history: historyRows.map((r) => `${String(r.OPERATION)} ${String(r.stream)}/${String(r.id)}=${String(r.v1)},${String(r.v2)}`).sort() }).toEqual({
          table: t.name,
          date,
          history: expectedHistory(historyBefore.get(t.name)!, replay(delivered.get(t.name)!)),
        });
        const rows = await readRows(h.engine, path.join(config.warehouse, config.dataset, t.name, 'current.parquet'), 'stream, id');
        const actual = rows.map((r) => `${String(r.stream)}/${String(r.id)}=${String(r.v1)},${String(r.v2)}`);
        const expected = [...replay(delivered.get(t.name)!)]
          .map(([key, v]) => ({ key, text: `${key}=${String(v.v1)},${String(v.v2)}` }))
          .sort((a, b) => {
            const [sa, ia] = a.key.split('/').map(Number);
            const [sb, ib] = b.key.split('/').map(Number);
            return sa - sb || ia - ib;
          })
          .map((e) => e.text);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          const missing = expected.filter((e) => !actual.includes(e)).slice(0, 5);
          const extra = actual.filter((a) => !expected.includes(a)).slice(0, 5);
          throw new Error(`seed ${SEED}, table ${t.name}, date ${date}: state differs from the oracle; expected but missing ${missing.join(' ')}; present but not expected ${extra.join(' ')}`);
        }
      }
    }
  });
});
