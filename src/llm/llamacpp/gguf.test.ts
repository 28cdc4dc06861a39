import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BayesactError } from "../../core/errors.ts";
import {
  decodeGguf,
  encodeGguf,
  float16BitsToNumber,
  float32ToFloat16Bits,
  type GgufValue,
  gguf,
  readGgufFile,
  writeGgufFile,
} from "./gguf.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bayesact-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One metadata entry of every value type, at the edges of its range. */
const EVERY_TYPE = new Map<string, GgufValue>([
  ["t.uint8", gguf.uint8(255)],
  ["t.int8", gguf.int8(-128)],
  ["t.uint16", gguf.uint16(65535)],
  ["t.int16", gguf.int16(-32768)],
  ["t.uint32", gguf.uint32(0xffffffff)],
  ["t.int32", gguf.int32(-0x80000000)],
  ["t.uint64", gguf.uint64(0xffffffffffffffffn)],
  ["t.int64", gguf.int64(-0x8000000000000000n)],
  ["t.float32", gguf.float32(Math.fround(0.1))],
  ["t.float64", gguf.float64(0.1)],
  ["t.bool_true", gguf.bool(true)],
  ["t.bool_false", gguf.bool(false)],
  ["t.string", gguf.string("héllo ▁ 🎲")],
  ["t.empty_string", gguf.string("")],
  ["t.arr_uint8", gguf.numbers("uint8", [0, 255])],
  ["t.arr_int8", gguf.numbers("int8", [-128, 127])],
  ["t.arr_uint16", gguf.numbers("uint16", [1, 65535])],
  ["t.arr_int16", gguf.numbers("int16", [-32768, 5])],
  ["t.arr_uint32", gguf.numbers("uint32", [7, 0xffffffff])],
  ["t.arr_int32", gguf.numbers("int32", [-1, 0x7fffffff])],
  ["t.arr_float32", gguf.numbers("float32", [1.5, -0.25])],
  ["t.arr_float64", gguf.numbers("float64", [Math.PI, -1e300])],
  ["t.arr_uint64", gguf.bigints("uint64", [0n, 1n << 40n])],
  ["t.arr_int64", gguf.bigints("int64", [-(1n << 50n)])],
  ["t.arr_bool", gguf.bools([true, false, true])],
  ["t.arr_string", gguf.strings(["a", "", "▁b"])],
  ["t.arr_nested", gguf.arrays([gguf.strings(["x", "y"]), gguf.numbers("int32", [3])])],
  ["t.arr_empty", gguf.numbers("float32", [])],
]);

describe("GGUF writer and reader", () => {
  it("round-trips metadata of every value type", () => {
    const file = decodeGguf(encodeGguf({ metadata: EVERY_TYPE, tensors: [] }));
    expect(file.version).toBe(3);
    expect([...file.metadata.keys()]).toEqual([...EVERY_TYPE.keys()]);
    for (const [key, value] of EVERY_TYPE) expect(file.metadata.get(key), key).toEqual(value);
  });

  it("writes what node-llama-cpp's independent reader reads", async () => {
    const path = join(dir, "every-type.gguf");
    const tensors = [
      { name: "w", dims: [3, 2], type: "F32" as const, data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    ];
    await writeGgufFile(path, { metadata: EVERY_TYPE, tensors });
    const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
    const t = info.metadata as unknown as { t: Record<string, unknown> };
    expect(t.t.uint64).toBe(0xffffffffffffffffn);
    expect(t.t.int32).toBe(-0x80000000);
    expect(t.t.float32).toBe(Math.fround(0.1));
    expect(t.t.string).toBe("héllo ▁ 🎲");
    expect(t.t.arr_nested).toEqual([["x", "y"], [3]]);
    expect(t.t.arr_bool).toEqual([true, false, true]);
    expect(info.tensorInfo).toHaveLength(1);
    expect(info.tensorInfo?.[0]).toMatchObject({ name: "w", dimensions: [3, 2], ggmlType: 0, offset: 0 });
    const ours = await readGgufFile(path);
    expect(info.tensorInfo?.[0]?.fileOffset).toBe(ours.dataOffset);
  });

  it("aligns every tensor's data to general.alignment and stores the values", () => {
    for (const alignment of [32, 64]) {
      const metadata = new Map<string, GgufValue>([["general.alignment", gguf.uint32(alignment)]]);
      const tensors = [
        { name: "a", dims: [3], type: "F32" as const, data: new Float32Array([1, -2, 0.5]) },
        {
          name: "b",
          dims: [5, 2],
          type: "F16" as const,
          data: Float32Array.from({ length: 10 }, (_, i) => i - 4.5),
        },
        { name: "c", dims: [1], type: "F32" as const, data: new Float32Array([7]) },
      ];
      const bytes = encodeGguf({ metadata, tensors });
      const file = decodeGguf(bytes);
      expect(file.alignment).toBe(alignment);
      expect(file.dataOffset % alignment).toBe(0);
      expect(file.tensors.map((t) => t.offset % alignment)).toEqual([0, 0, 0]);
      expect(file.tensors.map((t) => [t.name, t.typeName, t.dims, t.byteSize])).toEqual([
        ["a", "F32", [3], 12],
        ["b", "F16", [5, 2], 20],
        ["c", "F32", [1], 4],
      ]);
      expect(bytes.length % alignment).toBe(0);
      const [a, b, c] = file.tensors;
      const at = (t: typeof a) => file.dataOffset + (t?.offset ?? Number.NaN);
      expect([0, 1, 2].map((i) => bytes.readFloatLE(at(a) + 4 * i))).toEqual([1, -2, 0.5]);
      expect(
        Array.from({ length: 10 }, (_, i) => float16BitsToNumber(bytes.readUInt16LE(at(b) + 2 * i))),
      ).toEqual(Array.from({ length: 10 }, (_, i) => i - 4.5));
      expect(bytes.readFloatLE(at(c))).toBe(7);
    }
  });

  it("converts to half precision with round-to-nearest-even", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up past the largest half: infinity
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // underflows
      [1 + 2 ** -11, 0x3c00], // tie → even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
      [Number.POSITIVE_INFINITY, 0x7c00],
    ];
    for (const [value, bits] of cases) expect(float32ToFloat16Bits(value), String(value)).toBe(bits);
    expect(Number.isNaN(float16BitsToNumber(float32ToFloat16Bits(Number.NaN)))).toBe(true);
  });

  it("reads a header larger than its first read in several steps", async () => {
    const path = join(dir, "big-vocab.gguf");
    // ~3 MB of strings: more than the reader's first 1 MB chunk.
    const tokens = Array.from({ length: 30_000 }, (_, i) => `token-${i}-${"x".repeat(90)}`);
    await writeGgufFile(path, { metadata: { "tokenizer.ggml.tokens": gguf.strings(tokens) }, tensors: [] });
    const file = await readGgufFile(path);
    const value = file.metadata.get("tokenizer.ggml.tokens");
    expect(value?.type === "array" && value.itemType === "string" ? value.value : []).toEqual(tokens);
  });

  it("rejects invalid writer input", () => {
    const write =
      (metadata: Record<string, GgufValue>, data = new Float32Array(2)) =>
      () =>
        encodeGguf({ metadata, tensors: [{ name: "x", dims: [2], type: "F32", data }] });
    expect(write({ k: gguf.uint8(256) })).toThrow(/not a uint8/);
    expect(write({ k: gguf.int32(1.5) })).toThrow(/not a int32/);
    expect(write({ k: gguf.uint64(-1n) })).toThrow(/not a uint64/);
    expect(write({ "general.alignment": gguf.uint32(24) })).toThrow(/power of two/);
    expect(write({}, new Float32Array(3))).toThrow(/3 values for 2 elements/);
  });
});

describe("GGUF reader on corrupt and foreign files", () => {
  const good = encodeGguf({
    metadata: new Map<string, GgufValue>([
      ["general.name", gguf.string("ok")],
      ["n", gguf.uint32(1)],
    ]),
    tensors: [{ name: "w", dims: [4], type: "F32", data: new Float32Array(4) }],
  });
  // Byte positions in `good`: 24-byte header, then key "general.name" (8 + 12), its type (4), its value (8 + 2).
  const nameTypeAt = 24 + 8 + 12;
  const nameValueAt = nameTypeAt + 4;

  const expectInvalid = (bytes: Uint8Array, message: RegExp) => {
    let caught: unknown;
    try {
      decodeGguf(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BayesactError);
    expect((caught as BayesactError).category).toBe("gguf_invalid");
    expect((caught as BayesactError).userFacing).toBe(true);
    expect((caught as BayesactError).message).toMatch(message);
  };
  const patched = (at: number, write: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    write(b.subarray(at));
    return b;
  };

  it("accepts the unmodified file", () => {
    expect(decodeGguf(good).tensors[0]?.name).toBe("w");
  });

  it("names each kind of damage", () => {
    expectInvalid(Buffer.from("PK\u0003\u0004 a zip file, not a model"), /not a GGUF file/);
    expectInvalid(Buffer.alloc(0), /not a GGUF file/);
    expectInvalid(
      patched(4, (b) => b.writeUInt32LE(1)),
      /unsupported GGUF version 1/,
    );
    expectInvalid(good.subarray(0, 40), /truncated/);
    expectInvalid(good.subarray(0, good.length - 32), /truncated: tensor "w"/);
    expectInvalid(
      patched(nameTypeAt, (b) => b.writeUInt32LE(99)),
      /unknown value type 99/,
    );
    expectInvalid(
      patched(nameValueAt, (b) => b.writeBigUInt64LE(1n << 40n)),
      /exceeds the file size/,
    );
    expectInvalid(
      patched(nameValueAt + 8, (b) => b.writeUInt8(0xff)),
      /not valid UTF-8/,
    );
    expectInvalid(
      patched(16, (b) => b.writeBigUInt64LE(1n << 60n)),
      /metadata count .* exceeds the file size/,
    );
    // The tensor's offset is the last u64 of the header: 24 + two key–values + the tensor info.
    const headerEnd = 24 + (8 + 12 + 4 + 8 + 2) + (8 + 1 + 4 + 4) + (8 + 1 + 4 + 8 + 4 + 8);
    expect(decodeGguf(good).dataOffset).toBe(128); // headerEnd rounded up to 32
    expectInvalid(
      patched(headerEnd - 8, (b) => b.writeBigUInt64LE(4n)),
      /offset 4 is not a multiple of 32/,
    );
  });

  it("reports a missing file as gguf_not_found", async () => {
    await expect(readGgufFile(join(dir, "missing.gguf"))).rejects.toMatchObject({
      category: "gguf_not_found",
      userFacing: true,
    });
  });

  it("reports a foreign file on disk as gguf_invalid", async () => {
    const path = join(dir, "foreign.gguf");
    await writeFile(path, "#!/bin/sh\necho not a model\n");
    await expect(readGgufFile(path)).rejects.toMatchObject({ category: "gguf_invalid" });
  });
});
