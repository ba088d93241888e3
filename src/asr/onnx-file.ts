/**
 * Reads what rote needs from an ONNX file without ONNX Runtime and without
 * decoding the weights: the model's `metadata_props` (ModelProto field 14,
 * repeated StringStringEntryProto {key = 1, value = 2}) and the graph's declared
 * inputs and outputs (GraphProto fields 11 and 12, ValueInfoProto). onnxruntime-node
 * does not expose metadata_props, and sherpa-onnx keeps its settings there.
 *
 * It also lists the files the model keeps tensor data in (ONNX "external data", the way
 * exports over protobuf's 2 GB limit are saved: onnx/onnx docs/ExternalData.md). A tensor
 * (TensorProto) with `data_location` (field 14) = EXTERNAL (1) names its file in the
 * `external_data` entries (field 13, StringStringEntryProto): `location` (required, a path
 * relative to the model's directory; `..` is not allowed), `offset` and `length` (decimal
 * strings, optional), `checksum` (optional SHA-1 of the file). Tensors are found where onnx's
 * external_data_helper looks: the graph's initializers, the tensors of node attributes
 * (`t`, `tensors`), and the same inside every subgraph (attributes `g`, `graphs`, e.g. the
 * branches of Optimum's merged decoder) and function body; sparse initializers too.
 *
 * A tiny protobuf scanner walks the messages reading keys and lengths only; tensor
 * payloads are skipped by seeking, so a 500 MB model costs a few thousand small reads.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { RoteError } from '../util/errors.ts';
import { protoField } from '../util/protobuf.ts';

export interface OnnxDim {
  /** A fixed size, or null for a symbolic/unknown dimension. */
  value: number | null;
  /** The symbolic name ('B', 'T', ...) when the dimension has one. */
  param: string | null;
}

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType (1 float, 6 int32, 7 int64, ...); 0 when not a tensor. */
  elemType: number;
  /** null when the file declares no shape. */
  shape: OnnxDim[] | null;
}

/** One file an ONNX model keeps tensor data in (external data), as the model names it. */
export interface OnnxExternalFile {
  /** The `location` entry, as written: a path relative to the model's directory. */
  location: string;
  /** How many tensors keep their data there. */
  tensors: number;
  /** The file must hold at least this many bytes: the furthest `offset` + `length` the model reads. */
  minBytes: number;
}

export interface OnnxFileFacts {
  path: string;
  irVersion: number | null;
  producer: string;
  metadata: Record<string, string>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The files holding the data of tensors stored outside this file, in the order first named; empty for most models. */
  externalData: OnnxExternalFile[];
}

const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_LENGTH = 2;
const WIRE_32BIT = 5;

const MODEL_IR_VERSION = 1;
const MODEL_PRODUCER_NAME = 2;
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const MODEL_FUNCTIONS = 25;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_SPARSE_INITIALIZER = 15;
const FUNCTION_NODE = 7;
const NODE_ATTRIBUTE = 5;
/** AttributeProto fields holding tensors (t, tensors), sparse tensors (sparse_tensor, sparse_tensors) and subgraphs (g, graphs). */
const ATTRIBUTE_TENSOR_FIELDS = new Set([5, 10]);
const ATTRIBUTE_SPARSE_TENSOR_FIELDS = new Set([22, 23]);
const ATTRIBUTE_GRAPH_FIELDS = new Set([6, 11]);
/** SparseTensorProto.values and .indices (both TensorProto). */
const SPARSE_TENSOR_PARTS = new Set([1, 2]);
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;

/** One protobuf field found by the scanner: its number, wire type and where its payload lies. */
export interface ProtoField {
  field: number;
  wireType: number;
  /** Offset of the field's key in the source. */
  start: number;
  /** Offset of the payload (after key and, for length-delimited fields, the length). */
  offset: number;
  /** Payload length in bytes (varint: its encoded length). */
  length: number;
  /** The value of a varint field. */
  varint?: number;
}

/** Random access to bytes, from memory or from a file (read in chunks). */
interface ByteSource {
  size: number;
  bytes(offset: number, length: number): Promise<Uint8Array>;
}

function memorySource(data: Uint8Array): ByteSource {
  return {
    size: data.length,
    bytes: async (offset, length) => data.subarray(offset, Math.min(data.length, offset + length)),
  };
}

function fileSource(handle: FileHandle, size: number): ByteSource {
  const chunkSize = 1 << 16;
  let chunkStart = -1;
  let chunk = new Uint8Array(0);
  return {
    size,
    async bytes(offset, length) {
      const end = Math.min(size, offset + length);
      if (chunkStart >= 0 && offset >= chunkStart && end <= chunkStart + chunk.length) {
        return chunk.subarray(offset - chunkStart, end - chunkStart);
      }
      const want = Math.max(end - offset, chunkSize);
      const buffer = new Uint8Array(Math.min(want, size - offset));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      chunkStart = offset;
      chunk = buffer.subarray(0, bytesRead);
      return chunk.subarray(0, Math.min(bytesRead, end - offset));
    },
  };
}

class ProtoError extends Error {}

function decodeVarint(bytes: Uint8Array, at: number): { value: number; size: number } {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (at + i >= bytes.length) throw new ProtoError('truncated varint');
    const byte = bytes[at + i]!;
    value += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) return { value, size: i + 1 };
  }
  throw new ProtoError('varint longer than 10 bytes');
}

/** Scans the fields of the message occupying [begin, end) of `source`. Pure walk, no decoding of payloads. */
async function scanFields(source: ByteSource, begin: number, end: number): Promise<ProtoField[]> {
  const fields: ProtoField[] = [];
  let at = begin;
  while (at < end) {
    const head = await source.bytes(at, 20);
    const key = decodeVarint(head, 0);
    const field = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    if (field === 0) throw new ProtoError(`field number 0 at byte ${at}`);
    let offset = at + key.size;
    let length: number;
    let varint: number | undefined;
    if (wireType === WIRE_VARINT) {
      const decoded = decodeVarint(head, key.size);
      varint = decoded.value;
      length = decoded.size;
    } else if (wireType === WIRE_64BIT) {
      length = 8;
    } else if (wireType === WIRE_32BIT) {
      length = 4;
    } else if (wireType === WIRE_LENGTH) {
      const decoded = decodeVarint(head, key.size);
      offset += decoded.size;
      length = decoded.value;
    } else {
      throw new ProtoError(`unsupported wire type ${wireType} at byte ${at}`);
    }
    if (offset + length > end) throw new ProtoError(`field ${field} at byte ${at} runs past the end of its message`);
    fields.push({ field, wireType, start: at, offset, length, ...(varint !== undefined ? { varint } : {}) });
    at = offset + length;
  }
  return fields;
}

const utf8 = new TextDecoder('utf-8');

async function readString(source: ByteSource, field: ProtoField): Promise<string> {
  return utf8.decode(await source.bytes(field.offset, field.length));
}

async function readStringEntry(source: ByteSource, entry: ProtoField): Promise<[string, string]> {
  let key = '';
  let value = '';
  for (const f of await scanFields(source, entry.offset, entry.offset + entry.length)) {
    if (f.field === 1 && f.wireType === WIRE_LENGTH) key = await readString(source, f);
    if (f.field === 2 && f.wireType === WIRE_LENGTH) value = await readString(source, f);
  }
  return [key, value];
}

async function readValueInfo(source: ByteSource, info: ProtoField): Promise<OnnxValueInfo> {
  const result: OnnxValueInfo = { name: '', elemType: 0, shape: null };
  for (const f of await scanFields(source, info.offset, info.offset + info.length)) {
    if (f.field === 1 && f.wireType === WIRE_LENGTH) result.name = await readString(source, f);
    if (f.field !== 2 || f.wireType !== WIRE_LENGTH) continue;
    // TypeProto.tensor_type = 1 -> TypeProto.Tensor {elem_type = 1, shape = 2}
    for (const t of await scanFields(source, f.offset, f.offset + f.length)) {
      if (t.field !== 1 || t.wireType !== WIRE_LENGTH) continue;
      for (const tensor of await scanFields(source, t.offset, t.offset + t.length)) {
        if (tensor.field === 1 && tensor.varint !== undefined) result.elemType = tensor.varint;
        if (tensor.field === 2 && tensor.wireType === WIRE_LENGTH) {
          const shape: OnnxDim[] = [];
          for (const dim of await scanFields(source, tensor.offset, tensor.offset + tensor.length)) {
            if (dim.field !== 1 || dim.wireType !== WIRE_LENGTH) continue;
            const d: OnnxDim = { value: null, param: null };
            for (const part of await scanFields(source, dim.offset, dim.offset + dim.length)) {
              if (part.field === 1 && part.varint !== undefined) d.value = part.varint;
              if (part.field === 2 && part.wireType === WIRE_LENGTH) d.param = await readString(source, part);
            }
            shape.push(d);
          }
          result.shape = shape;
        }
      }
    }
  }
  return result;
}

/** Where tensor data outside the file is gathered while the scanner walks the model. */
type ExternalDataFiles = Map<string, OnnxExternalFile>;

function externalEntryNumber(value: string | undefined, key: string, tensor: string): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value.trim()))
    throw new ProtoError(`tensor "${tensor}" has external data ${key} "${value}", not a non-negative integer`);
  return Number(value.trim());
}

/** Records the external data of one TensorProto, if its data_location says EXTERNAL. */
async function readTensorLocation(source: ByteSource, tensor: ProtoField, files: ExternalDataFiles): Promise<void> {
  let external = false;
  let name = '';
  const entries: Record<string, string> = {};
  for (const f of await scanFields(source, tensor.offset, tensor.offset + tensor.length)) {
    if (f.field === TENSOR_DATA_LOCATION && f.varint !== undefined) external = f.varint === DATA_LOCATION_EXTERNAL;
    else if (f.field === TENSOR_NAME && f.wireType === WIRE_LENGTH) name = await readString(source, f);
    else if (f.field === TENSOR_EXTERNAL_DATA && f.wireType === WIRE_LENGTH) {
      const [key, value] = await readStringEntry(source, f);
      entries[key] = value;
    }
  }
  if (!external) return;
  const location = entries.location;
  if (!location) throw new ProtoError(`tensor "${name}" is stored as external data but names no location`);
  const end = externalEntryNumber(entries.offset, 'offset', name) + externalEntryNumber(entries.length, 'length', name);
  const file = files.get(location);
  if (file) {
    file.tensors++;
    file.minBytes = Math.max(file.minBytes, end);
  } else files.set(location, { location, tensors: 1, minBytes: end });
}

/** A SparseTensorProto's values and indices. */
async function readSparseTensorLocations(
  source: ByteSource,
  sparse: ProtoField,
  files: ExternalDataFiles,
): Promise<void> {
  for (const part of await scanFields(source, sparse.offset, sparse.offset + sparse.length))
    if (SPARSE_TENSOR_PARTS.has(part.field) && part.wireType === WIRE_LENGTH)
      await readTensorLocation(source, part, files);
}

/** The tensors of a NodeProto's attributes, and of the subgraphs its attributes hold. */
async function readNodeLocations(source: ByteSource, node: ProtoField, files: ExternalDataFiles): Promise<void> {
  for (const attribute of await scanFields(source, node.offset, node.offset + node.length)) {
    if (attribute.field !== NODE_ATTRIBUTE || attribute.wireType !== WIRE_LENGTH) continue;
    for (const f of await scanFields(source, attribute.offset, attribute.offset + attribute.length)) {
      if (f.wireType !== WIRE_LENGTH) continue;
      if (ATTRIBUTE_TENSOR_FIELDS.has(f.field)) await readTensorLocation(source, f, files);
      else if (ATTRIBUTE_SPARSE_TENSOR_FIELDS.has(f.field)) await readSparseTensorLocations(source, f, files);
      else if (ATTRIBUTE_GRAPH_FIELDS.has(f.field)) await readGraphLocations(source, f, files);
    }
  }
}

/** The external data of a GraphProto: its initializers, sparse initializers and nodes (subgraphs included). */
async function readGraphLocations(
  source: ByteSource,
  graph: ProtoField,
  files: ExternalDataFiles,
  fields?: ProtoField[],
): Promise<void> {
  for (const g of fields ?? (await scanFields(source, graph.offset, graph.offset + graph.length))) {
    if (g.wireType !== WIRE_LENGTH) continue;
    if (g.field === GRAPH_INITIALIZER) await readTensorLocation(source, g, files);
    else if (g.field === GRAPH_SPARSE_INITIALIZER) await readSparseTensorLocations(source, g, files);
    else if (g.field === GRAPH_NODE) await readNodeLocations(source, g, files);
  }
}

async function readFacts(source: ByteSource, path: string): Promise<OnnxFileFacts> {
  const facts: OnnxFileFacts = {
    path,
    irVersion: null,
    producer: '',
    metadata: {},
    inputs: [],
    outputs: [],
    externalData: [],
  };
  const external: ExternalDataFiles = new Map();
  let sawGraph = false;
  for (const field of await scanFields(source, 0, source.size)) {
    if (field.field === MODEL_IR_VERSION && field.varint !== undefined) facts.irVersion = field.varint;
    else if (field.field === MODEL_PRODUCER_NAME && field.wireType === WIRE_LENGTH)
      facts.producer = await readString(source, field);
    else if (field.field === MODEL_METADATA_PROPS && field.wireType === WIRE_LENGTH) {
      const [key, value] = await readStringEntry(source, field);
      facts.metadata[key] = value;
    } else if (field.field === MODEL_GRAPH && field.wireType === WIRE_LENGTH) {
      sawGraph = true;
      const graphFields = await scanFields(source, field.offset, field.offset + field.length);
      for (const g of graphFields) {
        if (g.field === GRAPH_INPUT && g.wireType === WIRE_LENGTH) facts.inputs.push(await readValueInfo(source, g));
        if (g.field === GRAPH_OUTPUT && g.wireType === WIRE_LENGTH) facts.outputs.push(await readValueInfo(source, g));
      }
      await readGraphLocations(source, field, external, graphFields);
    } else if (field.field === MODEL_FUNCTIONS && field.wireType === WIRE_LENGTH) {
      for (const f of await scanFields(source, field.offset, field.offset + field.length))
        if (f.field === FUNCTION_NODE && f.wireType === WIRE_LENGTH) await readNodeLocations(source, f, external);
    }
  }
  facts.externalData = [...external.values()];
  if (!sawGraph || facts.irVersion === null) throw new ProtoError('no ir_version or graph: not an ONNX ModelProto');
  return facts;
}

/** Metadata, inputs and outputs of an ONNX file, read without loading its weights. */
export async function readOnnxFile(path: string): Promise<OnnxFileFacts> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new RoteError(
      `${path}: cannot open ONNX file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  try {
    const { size } = await handle.stat();
    return await readFacts(fileSource(handle, size), path);
  } catch (error) {
    if (error instanceof ProtoError) {
      throw new RoteError(`${path}: not a readable ONNX model (${error.message}); re-export it or check the download`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    await handle.close();
  }
}

/** The same, for ONNX bytes already in memory. */
export async function readOnnxBytes(bytes: Uint8Array, name = '<bytes>'): Promise<OnnxFileFacts> {
  try {
    return await readFacts(memorySource(bytes), name);
  } catch (error) {
    if (error instanceof ProtoError)
      throw new RoteError(`${name}: not a readable ONNX model (${error.message})`, { cause: error });
    throw error;
  }
}

/** Top-level fields of an in-memory ModelProto (for tools that rewrite metadata). */
export async function scanTopLevelFields(bytes: Uint8Array): Promise<ProtoField[]> {
  return scanFields(memorySource(bytes), 0, bytes.length);
}

/**
 * Returns a copy of ModelProto bytes with its metadata_props replaced by `metadata`
 * (every other field kept byte for byte). Used by tests and model tooling.
 */
export async function withMetadata(bytes: Uint8Array, metadata: Record<string, string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const field of await scanTopLevelFields(bytes)) {
    if (field.field === MODEL_METADATA_PROPS) continue;
    parts.push(bytes.subarray(field.start, field.offset + field.length));
  }
  for (const [key, value] of Object.entries(metadata)) {
    parts.push(Uint8Array.from(protoField(MODEL_METADATA_PROPS, [...protoField(1, key), ...protoField(2, value)])));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** 'x [N, T, 80] float' style description of a declared input or output. */
export function describeValueInfo(info: OnnxValueInfo): string {
  const shape = info.shape
    ? `[${info.shape.map((d) => (d.value !== null && d.value > 0 ? String(d.value) : d.param || '?')).join(', ')}]`
    : '[?]';
  return `${info.name} ${shape} ${ELEM_TYPE_NAMES[info.elemType] ?? `type${info.elemType}`}`;
}

export const ELEM_TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'float64',
};
