/**
 * GGUF (version 3) writer and reader.
 *
 * Layout (little-endian): magic `GGUF`, version u32, tensor count u64, key–value count u64, the key–values
 * (key string, value type u32, value), the tensor infos (name, dimension count u32, dimensions u64 in ggml
 * order — the input size first —, ggml type u32, data offset u64 relative to the data section), padding to the
 * alignment, then the tensor data, each tensor starting at a multiple of `general.alignment` (default 32).
 * Strings are a u64 byte length followed by UTF-8 bytes, without a terminator.
 *
 * The writer exists so tests can generate a real model from scratch (see `tiny-model.ts`); the reader parses
 * header, metadata and tensor infos (never tensor data) to round-trip-test the writer and to describe a model file
 * in `doctor`. Anything malformed is a `BayesactError` with category `gguf_invalid`.
 */
import { open, writeFile } from "node:fs/promises";
import { BayesactError } from "../../core/errors.ts";

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Value type ids as they appear in the file. */
export const GGUF_VALUE_TYPES = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufValueType = keyof typeof GGUF_VALUE_TYPES;
export type GgufNumberType =
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "float32"
  | "float64";
export type GgufBigIntType = "uint64" | "int64";

/** An array holds items of one type; arrays of arrays are allowed by the format. */
export type GgufArray =
  | { readonly type: "array"; readonly itemType: GgufNumberType; readonly value: readonly number[] }
  | { readonly type: "array"; readonly itemType: GgufBigIntType; readonly value: readonly bigint[] }
  | { readonly type: "array"; readonly itemType: "bool"; readonly value: readonly boolean[] }
  | { readonly type: "array"; readonly itemType: "string"; readonly value: readonly string[] }
  | { readonly type: "array"; readonly itemType: "array"; readonly value: readonly GgufArray[] };

/** A typed metadata value: the type is explicit because the file stores it and JS numbers cannot tell. */
export type GgufValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | GgufArray;

/** Short constructors: `gguf.uint32(64)`, `gguf.array("string", ["a"])`. */
export const gguf = {
  uint8: (value: number): GgufValue => ({ type: "uint8", value }),
  int8: (value: number): GgufValue => ({ type: "int8", value }),
  uint16: (value: number): GgufValue => ({ type: "uint16", value }),
  int16: (value: number): GgufValue => ({ type: "int16", value }),
  uint32: (value: number): GgufValue => ({ type: "uint32", value }),
  int32: (value: number): GgufValue => ({ type: "int32", value }),
  uint64: (value: bigint): GgufValue => ({ type: "uint64", value }),
  int64: (value: bigint): GgufValue => ({ type: "int64", value }),
  float32: (value: number): GgufValue => ({ type: "float32", value }),
  float64: (value: number): GgufValue => ({ type: "float64", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  string: (value: string): GgufValue => ({ type: "string", value }),
  numbers: (itemType: GgufNumberType, value: readonly number[]): GgufArray => ({
    type: "array",
    itemType,
    value,
  }),
  bigints: (itemType: GgufBigIntType, value: readonly bigint[]): GgufArray => ({
    type: "array",
    itemType,
    value,
  }),
  bools: (value: readonly boolean[]): GgufArray => ({ type: "array", itemType: "bool", value }),
  strings: (value: readonly string[]): GgufArray => ({ type: "array", itemType: "string", value }),
  arrays: (value: readonly GgufArray[]): GgufArray => ({ type: "array", itemType: "array", value }),
} as const;

/**
 * ggml tensor types: id → name, elements per block, bytes per block. Only F32 and F16 are written; the reader
 * knows the common quantised types so `doctor` can report tensor sizes of real models.
 */
const GGML_TYPES: ReadonlyMap<
  number,
  { readonly name: string; readonly block: number; readonly bytes: number }
> = new Map([
  [0, { name: "F32", block: 1, bytes: 4 }],
  [1, { name: "F16", block: 1, bytes: 2 }],
  [2, { name: "Q4_0", block: 32, bytes: 18 }],
  [3, { name: "Q4_1", block: 32, bytes: 20 }],
  [6, { name: "Q5_0", block: 32, bytes: 22 }],
  [7, { name: "Q5_1", block: 32, bytes: 24 }],
  [8, { name: "Q8_0", block: 32, bytes: 34 }],
  [9, { name: "Q8_1", block: 32, bytes: 36 }],
  [10, { name: "Q2_K", block: 256, bytes: 84 }],
  [11, { name: "Q3_K", block: 256, bytes: 110 }],
  [12, { name: "Q4_K", block: 256, bytes: 144 }],
  [13, { name: "Q5_K", block: 256, bytes: 176 }],
  [14, { name: "Q6_K", block: 256, bytes: 210 }],
  [15, { name: "Q8_K", block: 256, bytes: 292 }],
  [16, { name: "IQ2_XXS", block: 256, bytes: 66 }],
  [17, { name: "IQ2_XS", block: 256, bytes: 74 }],
  [18, { name: "IQ3_XXS", block: 256, bytes: 98 }],
  [19, { name: "IQ1_S", block: 256, bytes: 50 }],
  [20, { name: "IQ4_NL", block: 32, bytes: 18 }],
  [21, { name: "IQ3_S", block: 256, bytes: 110 }],
  [22, { name: "IQ2_S", block: 256, bytes: 82 }],
  [23, { name: "IQ4_XS", block: 256, bytes: 136 }],
  [24, { name: "I8", block: 1, bytes: 1 }],
  [25, { name: "I16", block: 1, bytes: 2 }],
  [26, { name: "I32", block: 1, bytes: 4 }],
  [27, { name: "I64", block: 1, bytes: 8 }],
  [28, { name: "F64", block: 1, bytes: 8 }],
  [29, { name: "IQ1_M", block: 256, bytes: 56 }],
  [30, { name: "BF16", block: 1, bytes: 2 }],
]);

/** The tensor types this writer can encode from a `Float32Array`. */
export type GgufWritableTensorType = "F32" | "F16";

export interface GgufTensorInput {
  readonly name: string;
  /** ggml order: `dims[0]` is the innermost (input) size. */
  readonly dims: readonly number[];
  readonly type: GgufWritableTensorType;
  /** Row-major in ggml order (`dims[0]` varies fastest); length = product of `dims`. */
  readonly data: Float32Array;
}

export interface GgufWriteInput {
  /** Written in iteration order. `general.alignment`, when present, must be a uint32 power of two. */
  readonly metadata: ReadonlyMap<string, GgufValue> | Readonly<Record<string, GgufValue>>;
  readonly tensors: readonly GgufTensorInput[];
}

export interface GgufTensorInfo {
  readonly name: string;
  readonly dims: readonly number[];
  /** ggml type id. */
  readonly type: number;
  /** ggml type name, or `undefined` for an id this reader does not know. */
  readonly typeName: string | undefined;
  /** Offset of the data relative to the start of the data section. */
  readonly offset: number;
  /** Byte size of the data, or `undefined` for an unknown type. */
  readonly byteSize: number | undefined;
}

export interface GgufFile {
  readonly version: number;
  readonly alignment: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** Absolute file offset where tensor data starts. */
  readonly dataOffset: number;
  /** Total file size when known (always known for `readGgufFile`). */
  readonly fileSize: number | undefined;
}

function invalid(message: string): BayesactError {
  // A corrupt or foreign file is something the user gave us: one clear line, not a stack trace.
  return new BayesactError("gguf_invalid", message, { userFacing: true });
}

function badInput(message: string): BayesactError {
  return new BayesactError("gguf_invalid", `cannot write GGUF: ${message}`);
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function metadataEntries(metadata: GgufWriteInput["metadata"]): [string, GgufValue][] {
  return metadata instanceof Map ? [...metadata.entries()] : Object.entries(metadata);
}

// ---------------------------------------------------------------------------------------------------------------
// Writer

const INT_RANGES: Readonly<
  Record<Exclude<GgufNumberType, "float32" | "float64">, readonly [number, number]>
> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

const BIGINT_RANGES: Readonly<Record<GgufBigIntType, readonly [bigint, bigint]>> = {
  uint64: [0n, 0xffffffffffffffffn],
  int64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/** Grows a buffer as values are appended. */
class ByteWriter {
  private buffer = Buffer.alloc(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buffer.writeUInt8(v, this.length);
    this.length += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.buffer.writeInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.buffer.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.buffer.writeInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buffer.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.buffer.writeBigUInt64LE(v, this.length);
    this.length += 8;
  }
  i64(v: bigint): void {
    this.reserve(8);
    this.buffer.writeBigInt64LE(v, this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buffer.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const target = alignUp(this.length, alignment);
    this.reserve(target - this.length);
    this.buffer.fill(0, this.length, target);
    this.length = target;
  }
  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeScalar(
  w: ByteWriter,
  type: Exclude<GgufValueType, "array">,
  value: unknown,
  where: string,
): void {
  switch (type) {
    case "uint8":
    case "int8":
    case "uint16":
    case "int16":
    case "uint32":
    case "int32": {
      const [lo, hi] = INT_RANGES[type];
      if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) {
        throw badInput(`${where}: ${String(value)} is not a ${type}`);
      }
      if (type === "uint8") w.u8(value);
      else if (type === "int8") w.i8(value);
      else if (type === "uint16") w.u16(value);
      else if (type === "int16") w.i16(value);
      else if (type === "uint32") w.u32(value);
      else w.i32(value);
      return;
    }
    case "uint64":
    case "int64": {
      const [lo, hi] = BIGINT_RANGES[type];
      if (typeof value !== "bigint" || value < lo || value > hi)
        throw badInput(`${where}: ${String(value)} is not a ${type}`);
      if (type === "uint64") w.u64(value);
      else w.i64(value);
      return;
    }
    case "float32":
    case "float64":
      if (typeof value !== "number") throw badInput(`${where}: ${String(value)} is not a ${type}`);
      if (type === "float32") w.f32(value);
      else w.f64(value);
      return;
    case "bool":
      if (typeof value !== "boolean") throw badInput(`${where}: ${String(value)} is not a bool`);
      w.u8(value ? 1 : 0);
      return;
    case "string":
      if (typeof value !== "string") throw badInput(`${where}: ${String(value)} is not a string`);
      w.string(value);
      return;
  }
}

function writeArrayBody(w: ByteWriter, array: GgufArray, where: string): void {
  const itemType = array.itemType as string;
  if (!(itemType in GGUF_VALUE_TYPES)) throw badInput(`${where}: unknown array item type ${itemType}`);
  w.u32(GGUF_VALUE_TYPES[array.itemType]);
  w.u64(BigInt(array.value.length));
  if (array.itemType === "array") {
    for (const [i, item] of array.value.entries()) {
      if (item.type !== "array") throw badInput(`${where}[${i}]: expected an array`);
      writeArrayBody(w, item, `${where}[${i}]`);
    }
    return;
  }
  const scalarType = array.itemType;
  for (const [i, item] of array.value.entries()) writeScalar(w, scalarType, item, `${where}[${i}]`);
}

function writeValue(w: ByteWriter, value: GgufValue, where: string): void {
  const type = value.type as string;
  if (!(type in GGUF_VALUE_TYPES)) throw badInput(`${where}: unknown value type ${type}`);
  w.u32(GGUF_VALUE_TYPES[value.type]);
  if (value.type === "array") writeArrayBody(w, value, where);
  else writeScalar(w, value.type, value.value, where);
}

function elementCount(dims: readonly number[], where: string): number {
  if (dims.length === 0 || dims.length > 4) throw badInput(`${where}: a tensor has 1 to 4 dimensions`);
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d <= 0)
      throw badInput(`${where}: dimension ${d} is not a positive integer`);
    n *= d;
  }
  return n;
}

/** IEEE 754 binary16 bits of a number, round to nearest even (what ggml's `ggml_fp32_to_fp16` does). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf or NaN (quiet)
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // subnormal half: shift the implicit bit in
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && (half & 1) === 1) ? 1 : 0));
  }
  let half = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) {
    half += 1;
    if (half === 0x400) {
      half = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | half;
}

/** The number a binary16 bit pattern stands for. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function tensorBytes(tensor: GgufTensorInput): Uint8Array {
  if (tensor.type === "F32") {
    // Copy through a little-endian view so the file is the same on any host.
    const out = Buffer.alloc(tensor.data.length * 4);
    for (let i = 0; i < tensor.data.length; i++) out.writeFloatLE(tensor.data[i] as number, i * 4);
    return out;
  }
  const out = Buffer.alloc(tensor.data.length * 2);
  for (let i = 0; i < tensor.data.length; i++)
    out.writeUInt16LE(float32ToFloat16Bits(tensor.data[i] as number), i * 2);
  return out;
}

const WRITABLE_TYPE_IDS: Readonly<Record<GgufWritableTensorType, number>> = { F32: 0, F16: 1 };

/** Encode a complete GGUF v3 file. */
export function encodeGguf(input: GgufWriteInput): Buffer {
  const entries = metadataEntries(input.metadata);
  const alignmentValue = entries.find(([key]) => key === "general.alignment")?.[1];
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (alignmentValue !== undefined) {
    if (
      alignmentValue.type !== "uint32" ||
      alignmentValue.value <= 0 ||
      !isPowerOfTwo(alignmentValue.value)
    ) {
      throw badInput("general.alignment must be a uint32 power of two");
    }
    alignment = alignmentValue.value;
  }

  const names = new Set<string>();
  const blobs: Uint8Array[] = [];
  const offsets: number[] = [];
  let dataSize = 0;
  for (const tensor of input.tensors) {
    const where = `tensor ${JSON.stringify(tensor.name)}`;
    if (names.has(tensor.name)) throw badInput(`${where} appears twice`);
    names.add(tensor.name);
    if (!(tensor.type in WRITABLE_TYPE_IDS))
      throw badInput(`${where}: type ${String(tensor.type)} is not writable`);
    const n = elementCount(tensor.dims, where);
    if (tensor.data.length !== n) throw badInput(`${where}: ${tensor.data.length} values for ${n} elements`);
    const bytes = tensorBytes(tensor);
    offsets.push(dataSize);
    blobs.push(bytes);
    dataSize = alignUp(dataSize + bytes.length, alignment);
  }

  const w = new ByteWriter();
  w.bytes(Buffer.from(GGUF_MAGIC, "latin1"));
  w.u32(GGUF_VERSION);
  w.u64(BigInt(input.tensors.length));
  w.u64(BigInt(entries.length));
  for (const [key, value] of entries) {
    w.string(key);
    writeValue(w, value, `metadata ${JSON.stringify(key)}`);
  }
  for (const [i, tensor] of input.tensors.entries()) {
    w.string(tensor.name);
    w.u32(tensor.dims.length);
    for (const d of tensor.dims) w.u64(BigInt(d));
    w.u32(WRITABLE_TYPE_IDS[tensor.type]);
    w.u64(BigInt(offsets[i] as number));
  }
  w.padTo(alignment);
  for (const blob of blobs) {
    w.bytes(blob);
    w.padTo(alignment);
  }
  return w.result();
}

/** Encode and write a GGUF file (atomically enough for tests: one `writeFile`). */
export async function writeGgufFile(path: string, input: GgufWriteInput): Promise<number> {
  const bytes = encodeGguf(input);
  await writeFile(path, bytes);
  return bytes.length;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Reader

/** Thrown inside the parser when the buffer ends before the file does: the caller reads more and retries. */
class NeedMoreBytes extends Error {}

const TYPE_NAMES: ReadonlyMap<number, GgufValueType> = new Map(
  Object.entries(GGUF_VALUE_TYPES).map(([name, id]) => [id, name as GgufValueType]),
);

const utf8 = new TextDecoder("utf-8", { fatal: true });

class ByteReader {
  pos = 0;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  /** Size of the whole file; bytes beyond `bytes.length` but within it mean "read more", not "corrupt". */
  private readonly fileSize: number;

  constructor(bytes: Uint8Array, fileSize: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.fileSize = fileSize;
  }

  private need(n: number, what: string): void {
    if (this.pos + n <= this.bytes.length) return;
    if (this.pos + n <= this.fileSize) throw new NeedMoreBytes();
    throw invalid(
      `GGUF file is truncated: ${what} at byte ${this.pos} runs past the end (${this.fileSize} bytes)`,
    );
  }

  u8(what: string): number {
    this.need(1, what);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }
  i8(what: string): number {
    this.need(1, what);
    const v = this.view.getInt8(this.pos);
    this.pos += 1;
    return v;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(what: string): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  f32(what: string): number {
    this.need(4, what);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** A u64 count or size that must fit in the rest of the file given each item takes at least `minItemBytes`. */
  count(what: string, minItemBytes: number): number {
    const n = this.u64(what);
    const room = BigInt(Math.max(0, this.fileSize - this.pos));
    if (minItemBytes > 0 && n * BigInt(minItemBytes) > room) {
      throw invalid(
        `GGUF file is truncated or corrupt: ${what} ${n} at byte ${this.pos - 8} exceeds the file size`,
      );
    }
    return Number(n);
  }
  string(what: string): string {
    const start = this.pos;
    const n = this.count(`${what} length`, 1);
    this.need(n, what);
    const slice = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return utf8.decode(slice);
    } catch {
      throw invalid(`GGUF file is corrupt: ${what} at byte ${start} is not valid UTF-8`);
    }
  }
}

function readScalar(
  r: ByteReader,
  type: Exclude<GgufValueType, "array">,
  what: string,
): number | bigint | boolean | string {
  switch (type) {
    case "uint8":
      return r.u8(what);
    case "int8":
      return r.i8(what);
    case "uint16":
      return r.u16(what);
    case "int16":
      return r.i16(what);
    case "uint32":
      return r.u32(what);
    case "int32":
      return r.i32(what);
    case "uint64":
      return r.u64(what);
    case "int64":
      return r.i64(what);
    case "float32":
      return r.f32(what);
    case "float64":
      return r.f64(what);
    case "bool": {
      const b = r.u8(what);
      if (b > 1) throw invalid(`GGUF file is corrupt: ${what} is a bool with byte value ${b}`);
      return b === 1;
    }
    case "string":
      return r.string(what);
  }
}

const MIN_ITEM_BYTES: Readonly<Record<GgufValueType, number>> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
  string: 8,
  array: 12,
};

function readValueType(r: ByteReader, what: string): GgufValueType {
  const at = r.pos;
  const id = r.u32(what);
  const type = TYPE_NAMES.get(id);
  if (type === undefined)
    throw invalid(`GGUF file is corrupt: unknown value type ${id} for ${what} at byte ${at}`);
  return type;
}

function readArray(r: ByteReader, what: string, depth: number): GgufArray {
  if (depth > 8) throw invalid(`GGUF file is corrupt: ${what} nests arrays more than 8 deep`);
  const itemType = readValueType(r, `${what} item type`);
  const n = r.count(`${what} length`, MIN_ITEM_BYTES[itemType]);
  if (itemType === "array") {
    const items: GgufArray[] = [];
    for (let i = 0; i < n; i++) items.push(readArray(r, `${what}[${i}]`, depth + 1));
    return { type: "array", itemType, value: items };
  }
  const items: (number | bigint | boolean | string)[] = [];
  for (let i = 0; i < n; i++) items.push(readScalar(r, itemType, what));
  // The item type fixes the JS type of every item, so these narrowings are exact.
  return { type: "array", itemType, value: items } as GgufArray;
}

function readValue(r: ByteReader, what: string): GgufValue {
  const type = readValueType(r, `${what} type`);
  if (type === "array") return readArray(r, what, 0);
  return { type, value: readScalar(r, type, what) } as GgufValue;
}

function parse(bytes: Uint8Array, fileSize: number): GgufFile {
  const r = new ByteReader(bytes, fileSize);
  if (fileSize < 4 || Buffer.from(bytes.subarray(0, 4)).toString("latin1") !== GGUF_MAGIC) {
    const head = Buffer.from(bytes.subarray(0, Math.min(4, bytes.length))).toString("hex");
    throw invalid(`not a GGUF file: magic is 0x${head || "(empty)"}, expected "GGUF"`);
  }
  r.pos = 4;
  const version = r.u32("version");
  if (version !== 2 && version !== 3) {
    // Version 1 used 32-bit counts; later versions are unknown to this reader.
    throw invalid(`unsupported GGUF version ${version} (this reader knows versions 2 and 3)`);
  }
  const tensorCount = r.count("tensor count", 24);
  const kvCount = r.count("metadata count", 12);

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key #${i}`);
    if (metadata.has(key))
      throw invalid(`GGUF file is corrupt: metadata key ${JSON.stringify(key)} appears twice`);
    metadata.set(key, readValue(r, `metadata ${JSON.stringify(key)}`));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignmentValue = metadata.get("general.alignment");
  if (alignmentValue !== undefined) {
    if (alignmentValue.type !== "uint32" || !isPowerOfTwo(alignmentValue.value)) {
      throw invalid("GGUF file is corrupt: general.alignment is not a uint32 power of two");
    }
    alignment = alignmentValue.value;
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`tensor name #${i}`);
    const where = `tensor ${JSON.stringify(name)}`;
    if (names.has(name)) throw invalid(`GGUF file is corrupt: ${where} appears twice`);
    names.add(name);
    const nDims = r.u32(`${where} dimension count`);
    if (nDims < 1 || nDims > 4)
      throw invalid(`GGUF file is corrupt: ${where} has ${nDims} dimensions (1 to 4 allowed)`);
    const dims: number[] = [];
    let elements = 1n;
    for (let d = 0; d < nDims; d++) {
      const size = r.u64(`${where} dimension`);
      if (size === 0n) throw invalid(`GGUF file is corrupt: ${where} has a zero dimension`);
      elements *= size;
      if (elements > BigInt(Number.MAX_SAFE_INTEGER))
        throw invalid(`GGUF file is corrupt: ${where} is too large`);
      dims.push(Number(size));
    }
    const type = r.u32(`${where} type`);
    const offsetBig = r.u64(`${where} offset`);
    if (offsetBig > BigInt(Number.MAX_SAFE_INTEGER))
      throw invalid(`GGUF file is corrupt: ${where} offset is too large`);
    const offset = Number(offsetBig);
    if (offset % alignment !== 0) {
      throw invalid(`GGUF file is corrupt: ${where} data offset ${offset} is not a multiple of ${alignment}`);
    }
    const info = GGML_TYPES.get(type);
    let byteSize: number | undefined;
    if (info !== undefined) {
      const n = Number(elements);
      if ((dims[0] as number) % info.block !== 0) {
        throw invalid(
          `GGUF file is corrupt: ${where} row of ${dims[0]} is not a multiple of the ${info.name} block`,
        );
      }
      byteSize = (n / info.block) * info.bytes;
    }
    tensors.push({ name, dims, type, typeName: info?.name, offset, byteSize });
  }

  const dataOffset = alignUp(r.pos, alignment);
  for (const t of tensors) {
    if (t.byteSize !== undefined && dataOffset + t.offset + t.byteSize > fileSize) {
      throw invalid(
        `GGUF file is truncated: tensor ${JSON.stringify(t.name)} needs bytes up to ${dataOffset + t.offset + t.byteSize}, the file has ${fileSize}`,
      );
    }
  }
  return { version, alignment, metadata, tensors, dataOffset, fileSize };
}

/** Parse header, metadata and tensor infos from the bytes of a whole GGUF file. */
export function decodeGguf(bytes: Uint8Array): GgufFile {
  try {
    return parse(bytes, bytes.length);
  } catch (error) {
    if (error instanceof NeedMoreBytes) throw invalid("GGUF file is truncated");
    throw error;
  }
}

/**
 * Read a GGUF file's header without loading tensor data: reads a prefix, and reads a longer one only when the
 * metadata (e.g. a 150k-token vocabulary) does not fit.
 */
export async function readGgufFile(path: string): Promise<GgufFile> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "no such file" : (code ?? "cannot open");
    throw new BayesactError("gguf_not_found", `cannot read GGUF file ${path}: ${what}`, {
      cause: error,
      userFacing: true,
    });
  }
  try {
    const { size } = await handle.stat();
    let chunk = Math.min(size, 1 << 20);
    for (;;) {
      const buffer = Buffer.alloc(chunk);
      const { bytesRead } = await handle.read(buffer, 0, chunk, 0);
      try {
        return parse(buffer.subarray(0, bytesRead), size);
      } catch (error) {
        if (!(error instanceof NeedMoreBytes) || chunk >= size) {
          if (error instanceof NeedMoreBytes) throw invalid(`GGUF file ${path} is truncated`);
          throw error;
        }
        chunk = Math.min(size, chunk * 4);
      }
    }
  } finally {
    await handle.close();
  }
}

/** A metadata value as plain JS (bigints stay bigints; arrays become arrays of plain values). */
export function plainGgufValue(value: GgufValue): unknown {
  if (value.type !== "array") return value.value;
  if (value.itemType === "array") return value.value.map(plainGgufValue);
  return value.value.slice();
}
