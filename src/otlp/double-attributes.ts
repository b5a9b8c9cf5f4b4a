// OTLP's AnyValue has `int_value` and `double_value`; OpenTelemetry JS's protobuf serializer picks
// `int_value` for any JavaScript number that is a whole number (Number.isInteger), so an attribute the
// conventions declare double (`onbehalf.audit.duration_ms`: 12.5, then 12) would reach a SIEM as two
// types, breaking its column and any query that filters on it. JavaScript cannot mark a number as
// double, so this rewrites the serialized request instead: the wire format is fixed by
// opentelemetry-proto, whatever the SDK version that wrote it.

/** A field of a message on the way down to the attributes: which fields to descend into next. */
interface Path {
  readonly [field: number]: Path | 'attributes';
}

// ExportLogsServiceRequest.resource_logs(1) → ResourceLogs.scope_logs(2) → ScopeLogs.log_records(2)
// → LogRecord.attributes(6): repeated KeyValue { key(1), value(2): AnyValue { int_value(3), double_value(4) } }.
const LOGS_PATH: Path = { 1: { 2: { 2: { 6: 'attributes' } } } };

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/**
 * The serialized ExportLogsServiceRequest `request`, with every log record attribute named in `keys`
 * that was sent as `int_value` sent as the same number in `double_value`. Returns `request` itself when
 * nothing changes; a message it cannot parse is returned unchanged (never worse than the SDK's bytes).
 */
export function logAttributesAsDouble(request: Uint8Array, keys: ReadonlySet<string>): Uint8Array {
  try {
    return rewrite(request, LOGS_PATH, keys) ?? request;
  } catch {
    return request;
  }
}

/** The message rewritten along `path`, or undefined when nothing in it changed. */
function rewrite(msg: Uint8Array, path: Path, keys: ReadonlySet<string>): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let changed = false;
  let copiedFrom = 0;
  let pos = 0;
  while (pos < msg.length) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(msg, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    pos = afterTag;
    if (wire !== WIRE_LEN) {
      pos = skip(msg, pos, wire);
      continue;
    }
    const [length, afterLength] = readVarint(msg, pos);
    const end = afterLength + length;
    if (end > msg.length) throw new RangeError('truncated message');
    pos = end;
    const next = path[field];
    if (next === undefined) continue;
    const body = msg.subarray(afterLength, end);
    const replaced = next === 'attributes' ? keyValueAsDouble(body, keys) : rewrite(body, next, keys);
    if (!replaced) continue;
    parts.push(
      msg.subarray(copiedFrom, fieldStart),
      encodeVarint(tag),
      encodeVarint(replaced.length),
      replaced,
    );
    copiedFrom = end;
    changed = true;
  }
  if (!changed) return undefined;
  parts.push(msg.subarray(copiedFrom));
  return Buffer.concat(parts);
}

/** A KeyValue whose key is in `keys` and whose value is an `int_value`, as a `double_value`. */
function keyValueAsDouble(kv: Uint8Array, keys: ReadonlySet<string>): Uint8Array | undefined {
  let key: string | undefined;
  let value: { start: number; end: number; body: Uint8Array } | undefined;
  let pos = 0;
  while (pos < kv.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(kv, pos);
    pos = afterTag;
    if (tag % 8 !== WIRE_LEN) {
      pos = skip(kv, pos, tag % 8);
      continue;
    }
    const [length, afterLength] = readVarint(kv, pos);
    pos = afterLength + length;
    if (pos > kv.length) throw new RangeError('truncated KeyValue');
    const body = kv.subarray(afterLength, pos);
    if (tag === (1 << 3) + WIRE_LEN) key = Buffer.from(body).toString('utf8');
    else if (tag === (2 << 3) + WIRE_LEN) value = { start, end: pos, body };
  }
  if (key === undefined || value === undefined || !keys.has(key)) return undefined;
  const int = intValueOf(value.body);
  if (int === undefined) return undefined;
  const double = Buffer.alloc(9);
  double[0] = (4 << 3) + WIRE_I64;
  double.writeDoubleLE(int, 1);
  return Buffer.concat([
    kv.subarray(0, value.start),
    encodeVarint((2 << 3) + WIRE_LEN),
    encodeVarint(double.length),
    double,
    kv.subarray(value.end),
  ]);
}

/** The number in an AnyValue that holds only `int_value` (an int64 varint), else undefined. */
function intValueOf(anyValue: Uint8Array): number | undefined {
  if (anyValue.length < 2 || anyValue[0] !== (3 << 3) + WIRE_VARINT) return undefined;
  let value = 0n;
  let shift = 0n;
  let pos = 1;
  for (;;) {
    if (pos >= anyValue.length || shift > 63n) return undefined;
    const byte = anyValue[pos++]!;
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) break;
  }
  if (pos !== anyValue.length) return undefined;
  return Number(BigInt.asIntN(64, value));
}

function readVarint(buf: Uint8Array, start: number): [number, number] {
  let value = 0;
  let scale = 1;
  let pos = start;
  for (;;) {
    if (pos >= buf.length || scale > 2 ** 49) throw new RangeError('bad varint');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) return [value, pos];
  }
}

function skip(buf: Uint8Array, pos: number, wire: number): number {
  if (wire === WIRE_VARINT) return readVarint(buf, pos)[1];
  if (wire === WIRE_I64) return pos + 8;
  if (wire === WIRE_I32) return pos + 4;
  throw new RangeError(`unexpected wire type ${wire}`);
}

function encodeVarint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}
