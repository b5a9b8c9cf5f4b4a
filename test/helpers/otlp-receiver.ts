// A real OTLP/HTTP receiver on loopback: what a Collector or Jaeger would get. It decodes the protobuf
// bodies with the official opentelemetry-proto definitions (compiled to protobufjs by the OpenTelemetry
// JS project; the devDependency `otlp-proto-definitions` is @opentelemetry/otlp-transformer@0.214.0,
// the last release that shipped them) for both traces and logs.
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** An OTLP attribute value, decoded into plain JS. */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

/** A span as received. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, OtlpValue>;
  resource: Record<string, OtlpValue>;
  scope: string;
}

/** A log record as received. */
export interface ReceivedLogRecord {
  traceId: string;
  spanId: string;
  /** Unix nanoseconds, as a decimal string. */
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: OtlpValue;
  attributes: Record<string, OtlpValue>;
  /** Which AnyValue field carried each attribute (`stringValue`, `intValue`, `doubleValue`, …). */
  attributeKinds: Record<string, string>;
  resource: Record<string, OtlpValue>;
  scope: string;
}

/** A running receiver; point an exporter at `url` (`/v1/traces`, `/v1/logs`). */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`, like OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  logs: ReceivedLogRecord[];
  /** Every request: path, content type and headers, and the status answered. */
  requests: { path: string; contentType: string; headers: IncomingMessage['headers']; status: number }[];
  close(): Promise<void>;
}

interface ProtoMessage {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, options: Record<string, unknown>): unknown;
}
interface ProtoRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: { v1: { ExportTraceServiceRequest: ProtoMessage } };
        logs: { v1: { ExportLogsServiceRequest: ProtoMessage } };
      };
    };
  };
}

const root = createRequire(import.meta.url)(
  'otlp-proto-definitions/build/src/generated/root.js',
) as ProtoRoot;
const { collector } = root.opentelemetry.proto;
const TO_OBJECT = { longs: String, bytes: String, enums: Number, defaults: true, arrays: true };

type Json = Record<string, unknown>;
interface KeyValue {
  key: string;
  value?: Json;
}

function anyValue(v: Json | undefined): OtlpValue {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue as string;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue as boolean;
  if (v.intValue !== undefined && v.intValue !== null) return Number(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue as number;
  if (v.arrayValue) return ((v.arrayValue as Json).values as Json[]).map(anyValue);
  if (v.kvlistValue) return attrs((v.kvlistValue as Json).values as KeyValue[]);
  if (v.bytesValue) return v.bytesValue as string;
  return null;
}

const VALUE_FIELDS = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
];

function kinds(list: KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? [])
    out[kv.key] = VALUE_FIELDS.find((f) => kv.value?.[f] !== undefined && kv.value?.[f] !== null) ?? 'none';
  return out;
}

function attrs(list: KeyValue[] | undefined): Record<string, OtlpValue> {
  const out: Record<string, OtlpValue> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

const hex = (b64: unknown) => Buffer.from((b64 as string) ?? '', 'base64').toString('hex');

function decodeTraces(body: Buffer): ReceivedSpan[] {
  const req = collector.trace.v1.ExportTraceServiceRequest;
  return spansOf(req.toObject(req.decode(body), TO_OBJECT) as { resourceSpans: Json[] }, hex);
}

/** OTLP/HTTP JSON (what `exporter-trace-otlp-http` sends): ids are hex already. */
function decodeJsonTraces(body: Buffer): ReceivedSpan[] {
  return spansOf(JSON.parse(body.toString('utf8')) as { resourceSpans: Json[] }, (id) => String(id ?? ''));
}

function spansOf(msg: { resourceSpans: Json[] }, id: (raw: unknown) => string): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of msg.resourceSpans) {
    const resource = attrs((rs.resource as Json | undefined)?.attributes as KeyValue[]);
    for (const ss of (rs.scopeSpans as Json[] | undefined) ?? []) {
      const scope = ((ss.scope as Json | undefined)?.name as string) ?? '';
      for (const s of (ss.spans as Json[] | undefined) ?? []) {
        out.push({
          traceId: id(s.traceId),
          spanId: id(s.spanId),
          parentSpanId: id(s.parentSpanId),
          name: s.name as string,
          attributes: attrs(s.attributes as KeyValue[]),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

function decodeLogs(body: Buffer): ReceivedLogRecord[] {
  const req = collector.logs.v1.ExportLogsServiceRequest;
  const msg = req.toObject(req.decode(body), TO_OBJECT) as { resourceLogs: Json[] };
  const out: ReceivedLogRecord[] = [];
  for (const rl of msg.resourceLogs) {
    const resource = attrs((rl.resource as Json | undefined)?.attributes as KeyValue[]);
    for (const sl of rl.scopeLogs as Json[]) {
      const scope = ((sl.scope as Json | undefined)?.name as string) ?? '';
      for (const r of sl.logRecords as Json[]) {
        out.push({
          traceId: hex(r.traceId),
          spanId: hex(r.spanId),
          timeUnixNano: String(r.timeUnixNano),
          severityNumber: r.severityNumber as number,
          severityText: r.severityText as string,
          body: anyValue(r.body as Json | undefined),
          attributes: attrs(r.attributes as KeyValue[]),
          attributeKinds: kinds(r.attributes as KeyValue[]),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * Starts a receiver on 127.0.0.1 (a free port). Protobuf bodies are accepted, as OpenTelemetry's exporters
 * send them, and JSON trace bodies, as vendors' exporters do.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, 'url' | 'close'> = { spans: [], logs: [], requests: [] };
  const server = createServer(async (req, res) => {
    const path = req.url ?? '';
    const contentType = req.headers['content-type'] ?? '';
    let status = 200;
    try {
      const body = await readBody(req);
      // OTLP/HTTP JSON traces at any `…/v1/traces` path, as vendors' exporters send them (Langfuse's
      // endpoint is `/api/public/otel/v1/traces`).
      if (contentType.startsWith('application/json') && path.endsWith('/v1/traces'))
        receiver.spans.push(...decodeJsonTraces(body));
      else if (contentType !== 'application/x-protobuf') status = 415;
      else if (path === '/v1/traces') receiver.spans.push(...decodeTraces(body));
      else if (path === '/v1/logs') receiver.logs.push(...decodeLogs(body));
      else status = 404;
    } catch {
      status = 400;
    }
    receiver.requests.push({ path, contentType, headers: req.headers, status });
    // An empty Export*ServiceResponse is an empty protobuf message: zero bytes.
    res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
