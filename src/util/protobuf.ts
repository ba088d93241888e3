/** The protobuf writer rote needs to build small ONNX models by hand (ModelProto fields). Pure. */
const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;

/** Protobuf's base-128 varint encoding of a non-negative integer. */
function protoVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** One encoded protobuf field: a varint (a number), or length-delimited (a string as UTF-8, or bytes). */
export function protoField(field: number, payload: number | string | ArrayLike<number>): number[] {
  if (typeof payload === 'number') return [...protoVarint(field * 8 + WIRE_VARINT), ...protoVarint(payload)];
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return [...protoVarint(field * 8 + WIRE_LENGTH), ...protoVarint(bytes.length), ...Array.from(bytes)];
}
