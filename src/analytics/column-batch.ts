/**
 * Column batches for the sync's bulk copy: rows land in per-column typed arrays (values plus a
 * validity bitmap) and go into DuckDB as DataChunks whose vectors are filled with one memory copy
 * per column and 2048 rows, instead of one call per value.
 *
 * Rows come as arrays (addRows: the PGlite path and late rows); a Postgres server's rows go to
 * DuckDB as CSV instead (csv-copy.ts).
 *
 * VARCHAR vectors hold 16-byte string_t slots (DuckDB C API, duckdb_string_t): a string of at
 * most 12 bytes is stored inline (uint32 length, then the bytes, zero padded), so it is copied
 * with the slots; longer strings are assigned one by one through the C API, which copies them
 * into the vector's own heap.
 */
import bindings from "@duckdb/node-bindings";
import { BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";

const CHUNK = 2048; // DuckDB's vector size
const INLINE = 12; // longest string stored inside a string_t slot

type Kind = "int4" | "float8" | "bool" | "text";

function kindOf(t: DuckDBType): Kind {
  if (t.typeId === INTEGER.typeId) return "int4";
  if (t.typeId === DOUBLE.typeId) return "float8";
  if (t.typeId === BOOLEAN.typeId) return "bool";
  if (t.typeId === VARCHAR.typeId) return "text";
  throw new Error(`column batch: unsupported type ${t.toString()}`);
}

interface Column {
  kind: Kind;
  /** int4: Int32Array, float8: Float64Array, bool: Uint8Array, text: 16-byte slots */
  data: Int32Array | Float64Array | Uint8Array;
  /** 1 bit per row, 1 = valid; padded so a whole chunk's 256 bytes can always be copied */
  valid: Uint8Array;
  nulls: number;
  /** text longer than INLINE bytes: row, start and length in `arena` */
  longRows: number[];
  longStart: number[];
  longLen: number[];
}

const encoder = new TextEncoder();

export class ColumnBatch {
  readonly types: DuckDBType[];
  readonly capacity: number;
  length = 0;
  private readonly cols: Column[];
  private arena = new Uint8Array(1 << 16);
  private arenaUsed = 0;

  constructor(types: DuckDBType[], capacity: number) {
    this.types = types;
    this.capacity = Math.max(CHUNK, Math.ceil(capacity / CHUNK) * CHUNK);
    this.cols = types.map((t) => {
      const kind = kindOf(t);
      const n = this.capacity;
      const data = kind === "int4" ? new Int32Array(n) : kind === "float8" ? new Float64Array(n) : kind === "bool" ? new Uint8Array(n) : new Uint8Array(n * 16);
      return { kind, data, valid: new Uint8Array(n / 8 + 256), nulls: 0, longRows: [], longStart: [], longLen: [] };
    });
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  clear(): void {
    this.length = 0;
    this.arenaUsed = 0;
    for (const c of this.cols) {
      c.nulls = 0;
      c.longRows.length = 0;
      c.longStart.length = 0;
      c.longLen.length = 0;
      if (c.kind === "text") (c.data as Uint8Array).fill(0);
      c.valid.fill(0);
    }
  }

  private setValid(c: Column, row: number): void {
    c.valid[row >> 3]! |= 1 << (row & 7);
  }

  private putText(c: Column, row: number, src: Uint8Array, start: number, len: number): void {
    const slots = c.data as Uint8Array;
    const at = row * 16;
    if (len <= INLINE) {
      slots[at] = len & 0xff;
      slots[at + 1] = (len >>> 8) & 0xff;
      for (let k = 0; k < len; k++) slots[at + 4 + k] = src[start + k]!;
    } else {
      if (this.arenaUsed + len > this.arena.length) {
        const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
        next.set(this.arena.subarray(0, this.arenaUsed));
        this.arena = next;
      }
      this.arena.set(src.subarray(start, start + len), this.arenaUsed);
      c.longRows.push(row);
      c.longStart.push(this.arenaUsed);
      c.longLen.push(len);
      this.arenaUsed += len;
    }
  }

  /** Appends array rows (values as postgres.js / PGlite give them: numbers, booleans, strings, null). */
  addRows(rows: unknown[][], from = 0, to = rows.length): number {
    let i = from;
    for (; i < to && this.length < this.capacity; i++) {
      const row = rows[i]!;
      const r = this.length++;
      for (let j = 0; j < this.cols.length; j++) {
        const c = this.cols[j]!;
        const v = row[j];
        if (v === null || v === undefined) {
          c.nulls++;
          continue;
        }
        this.setValid(c, r);
        if (c.kind === "int4") (c.data as Int32Array)[r] = Number(v);
        else if (c.kind === "float8") (c.data as Float64Array)[r] = Number(v);
        else if (c.kind === "bool") (c.data as Uint8Array)[r] = v === true ? 1 : 0;
        else {
          const bytes = encoder.encode(typeof v === "string" ? v : String(v));
          this.putText(c, r, bytes, 0, bytes.length);
        }
      }
    }
    return i;
  }

  /** Forgets what the first `columns` columns got for row r (a tuple cut at a buffer's end). */
  private undoRow(r: number, columns: number): void {
    for (let j = 0; j < columns; j++) {
      const c = this.cols[j]!;
      if ((c.valid[r >> 3]! & (1 << (r & 7))) === 0) c.nulls--;
      else {
        c.valid[r >> 3]! &= ~(1 << (r & 7));
        if (c.kind === "text") {
          const at = r * 16;
          (c.data as Uint8Array).fill(0, at, at + 16);
          if (c.longRows.length > 0 && c.longRows[c.longRows.length - 1] === r) {
            c.longRows.pop();
            this.arenaUsed = Math.min(this.arenaUsed, c.longStart.pop()!);
            c.longLen.pop();
          }
        }
      }
    }
  }

  /** Value of an int4 column at a row (the id of the last row, for the high-water mark). */
  int4(column: number, row: number): number {
    return (this.cols[column]!.data as Int32Array)[row]!;
  }

  /** Appends the batch to `table` (whose columns are `types`, in order) through one appender. */
  async appendTo(c: DuckDBConnection, table: string): Promise<void> {
    if (this.length === 0) return;
    const appender = await c.createAppender(table);
    try {
      for (let off = 0; off < this.length; off += CHUNK) {
        const m = Math.min(CHUNK, this.length - off);
        const chunk = DuckDBDataChunk.create(this.types, m);
        for (let j = 0; j < this.cols.length; j++) {
          const col = this.cols[j]!;
          const v = bindings.data_chunk_get_vector(chunk.chunk, j);
          const width = col.kind === "int4" ? 4 : col.kind === "float8" ? 8 : col.kind === "bool" ? 1 : 16;
          bindings.copy_data_to_vector(v, 0, col.data.buffer as ArrayBuffer, col.data.byteOffset + off * width, m * width);
          if (col.kind === "text" && col.longRows.length > 0) {
            // long strings of this chunk (longRows is ascending)
            const rows = col.longRows;
            let k = lowerBound(rows, off);
            for (; k < rows.length && rows[k]! < off + m; k++) {
              const s = col.longStart[k]!;
              bindings.vector_assign_string_element_len(v, rows[k]! - off, this.arena.subarray(s, s + col.longLen[k]!));
            }
          }
          if (col.nulls > 0) {
            bindings.vector_ensure_validity_writable(v);
            bindings.copy_data_to_vector_validity(v, 0, col.valid.buffer as ArrayBuffer, col.valid.byteOffset + off / 8, Math.ceil(m / 64) * 8);
          }
        }
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }
}

function lowerBound(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
