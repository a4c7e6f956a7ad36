// Rewrites a serialized ONNX model so that its graph declares only some outputs, without
// parsing the rest: the baseline "plain forward pass" the benchmarks compare extraction to.
// ModelProto.graph is field 7; GraphProto.output is field 12, a ValueInfoProto whose name is field 1.

const textDecoder = new TextDecoder();

interface Field {
  number: number;
  wire: number;
  start: number; // first byte of the tag
  end: number; // one past the field's last byte
  payloadStart: number;
  payloadEnd: number;
}

function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: i };
    shift += 7;
    if (shift > 63) throw new Error('protobuf: varint too long (corrupt model?)');
  }
}

function* fields(bytes: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    const tag = readVarint(bytes, at);
    const number = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    at = tag.next;
    let payloadStart = at;
    if (wire === 0) at = readVarint(bytes, at).next;
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const len = readVarint(bytes, at);
      payloadStart = len.next;
      at = len.next + len.value;
    } else throw new Error(`protobuf: unsupported wire type ${wire} (corrupt model?)`);
    if (at > bytes.length) throw new Error('protobuf: field runs past the end (truncated model?)');
    yield { number, wire, start, end: at, payloadStart, payloadEnd: wire === 2 ? at : at };
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function valueInfoName(bytes: Uint8Array): string {
  for (const f of fields(bytes)) if (f.number === 1 && f.wire === 2) return textDecoder.decode(bytes.subarray(f.payloadStart, f.payloadEnd));
  return '';
}

/** A copy of `model` whose graph declares only the outputs named in `keep`. */
export function keepOnlyOutputs(model: Uint8Array, keep: readonly string[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields(model)) {
    if (f.number !== 7 || f.wire !== 2) {
      parts.push(model.subarray(f.start, f.end));
      continue;
    }
    const graph = model.subarray(f.payloadStart, f.payloadEnd);
    const graphParts: Uint8Array[] = [];
    for (const g of fields(graph)) {
      if (g.number === 12 && g.wire === 2 && !keep.includes(valueInfoName(graph.subarray(g.payloadStart, g.payloadEnd)))) continue;
      graphParts.push(graph.subarray(g.start, g.end));
    }
    const newGraph = concat(graphParts);
    parts.push(Uint8Array.from([...varint(7 * 8 + 2), ...varint(newGraph.length)]), newGraph);
  }
  return concat(parts);
}
