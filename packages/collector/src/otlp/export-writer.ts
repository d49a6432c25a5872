import { BinaryWriter } from '@otlp-mmap/protocol';

const MAX_UINT64 = 2n ** 64n - 1n;
const MAX_INT32 = 0x7fffffffn;

/**
 * The `BinaryWriter` the generated OTLP encoders write export requests
 * with. It writes the same bytes as `BinaryWriter`, but the two 64-bit
 * writes every span needs are cheaper: `fixed64` (timestamps) goes through
 * one `DataView.setBigUint64` instead of a split into two 32-bit halves
 * (with an object per value), and `int64` of a small non-negative value
 * (most integer attributes) is written as the `uint32` varint it equals.
 * Anything else (negative, large, or non-bigint values, and the range
 * errors) is left to `BinaryWriter`. Only public `BinaryWriter` methods are
 * used.
 */
export class ExportWriter extends BinaryWriter {
  private readonly scratchView = new DataView(new ArrayBuffer(8));
  private readonly scratch = new Uint8Array(this.scratchView.buffer);

  override fixed64(value: string | number | bigint): this {
    if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) return super.fixed64(value);
    this.scratchView.setBigUint64(0, value, true);
    return this.raw(this.scratch);
  }

  override int64(value: string | number | bigint): this {
    if (typeof value !== 'bigint' || value < 0n || value > MAX_INT32) return super.int64(value);
    return this.uint32(Number(value));
  }
}
