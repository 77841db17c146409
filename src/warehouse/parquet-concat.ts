/**
 * Joins Parquet files of one schema into one file without decoding them: each file's row groups
 * are copied byte for byte, one after the other, under one footer that lists them all with
 * their offsets moved to where they landed. The bucket files of a commit (each sorted, in
 * bucket order) become its one-file export at the speed of a file copy, where DuckDB would
 * decode and encode every row again; the same files always give the same bytes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { field, T, type ThriftList, ThriftReader, type ThriftStruct, ThriftWriter } from './thrift-compact';

const MAGIC = Buffer.from('PAR1');

/** Field ids of parquet.thrift's structures that the join reads or moves. */
const FILE = { schema: 2, numRows: 3, rowGroups: 4, keyValue: 5, columnOrders: 7, encryption: 8, signingKey: 9 };
const ROW_GROUP = { columns: 1, fileOffset: 5, ordinal: 7 };
const CHUNK = { filePath: 1, fileOffset: 2, metaData: 3, offsetIndexOffset: 4, columnIndexOffset: 6, cryptoMetadata: 8, encryptedMetadata: 9 };
/** ColumnMetaData's absolute offsets: data, index and dictionary pages, bloom filter. */
const PAGE_OFFSETS = [9, 10, 11, 14];

interface ParquetFooter {
  path: string;
  /** Where the row groups' bytes end and the footer begins. */
  bodyEnd: number;
  meta: ThriftStruct;
}

async function readFooter(file: string): Promise<ParquetFooter> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(8);
    if (size < 12) throw new Error(`${file} is not a Parquet file (${size} bytes)`);
    await handle.read(tail, 0, 8, size - 8);
    if (!tail.subarray(4).equals(MAGIC)) throw new Error(`${file} is not a Parquet file (no PAR1 at its end)`);
    const length = tail.readUInt32LE(0);
    const bodyEnd = size - 8 - length;
    if (bodyEnd < 4) throw new Error(`${file}: Parquet footer length ${length} exceeds the file`);
    const footer = Buffer.alloc(length);
    await handle.read(footer, 0, length, bodyEnd);
    return { path: file, bodyEnd, meta: new ThriftReader(footer).struct() };
  } finally {
    await handle.close();
  }
}

const bytesOf = (s: ThriftStruct, id: number) => {
  const f = field(s, id);
  return f ? new ThriftWriter().struct({ fields: [f] }).toBuffer() : Buffer.alloc(0);
};

/** Whether the files can be joined by their bytes: one schema, no encryption, no page indexes (whose offsets live in the data). */
function joinable(footers: readonly ParquetFooter[]): boolean {
  const [first] = footers;
  const unsupported = [CHUNK.filePath, CHUNK.offsetIndexOffset, CHUNK.columnIndexOffset, CHUNK.cryptoMetadata, CHUNK.encryptedMetadata];
  return footers.every(
    (f) =>
      [FILE.schema, FILE.keyValue, FILE.columnOrders].every((id) => bytesOf(f.meta, id).equals(bytesOf(first.meta, id))) &&
      !field(f.meta, FILE.encryption) &&
      !field(f.meta, FILE.signingKey) &&
      columnChunks(f.meta).every((chunk) => !unsupported.some((id) => field(chunk, id))),
  );
}

function rowGroups(meta: ThriftStruct): ThriftStruct[] {
  return ((field(meta, FILE.rowGroups)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
}

function columnChunks(meta: ThriftStruct): ThriftStruct[] {
  return rowGroups(meta).flatMap((g) => (field(g, ROW_GROUP.columns)!.value as ThriftList).items as ThriftStruct[]);
}

/** Adds `delta` to an i64 offset field; a zero (DuckDB's deprecated column chunk offset) stays zero. */
function moveOffset(s: ThriftStruct, id: number, delta: bigint): void {
  const f = field(s, id);
  if (f && f.type === T.I64 && f.value !== 0n) f.value = (f.value as bigint) + delta;
}

/** The footer of the joined file: every file's row groups in order, their offsets moved by where each file's body lands. */
function joinedFooter(footers: readonly ParquetFooter[]): Buffer {
  const groups: ThriftStruct[] = [];
  let numRows = 0n;
  let at = MAGIC.length;
  for (const f of footers) {
    const delta = BigInt(at - MAGIC.length);
    for (const group of rowGroups(f.meta)) {
      moveOffset(group, ROW_GROUP.fileOffset, delta);
      const ordinal = field(group, ROW_GROUP.ordinal);
      if (ordinal) ordinal.value = groups.length;
      for (const chunk of (field(group, ROW_GROUP.columns)!.value as ThriftList).items as ThriftStruct[]) {
        moveOffset(chunk, CHUNK.fileOffset, delta);
        const meta = field(chunk, CHUNK.metaData)!.value as ThriftStruct;
        for (const id of PAGE_OFFSETS) moveOffset(meta, id, delta);
      }
      groups.push(group);
    }
    numRows += field(f.meta, FILE.numRows)!.value as bigint;
    at += f.bodyEnd - MAGIC.length;
  }
  const fields = footers[0].meta.fields.map((f) => {
    if (f.id === FILE.numRows) return { ...f, value: numRows };
    if (f.id === FILE.rowGroups) return { ...f, value: { elementType: T.STRUCT, items: groups } };
    return f;
  });
  return new ThriftWriter().struct({ fields }).toBuffer();
}

/**
 * Writes `out` as the rows of `files`, in order, when their bytes can be joined (see
 * joinable); returns false, writing nothing, when they cannot.
 */
export async function concatParquet(files: readonly string[], out: string): Promise<boolean> {
  if (!files.length) throw new Error('concatParquet: no files');
  const footers = await Promise.all(files.map(readFooter));
  if (!joinable(footers)) return false;
  const footer = joinedFooter(footers);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(footer.length);
  const sink = createWriteStream(out);
  await pipeline(async function* () {
    yield MAGIC;
    for (const f of footers) {
      if (f.bodyEnd > MAGIC.length) yield* createReadStream(f.path, { start: MAGIC.length, end: f.bodyEnd - 1, highWaterMark: 4 << 20 });
    }
    yield footer;
    yield length;
    yield MAGIC;
  }, sink);
  return true;
}
