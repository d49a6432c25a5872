/**
 * Test support: the spans of a file, rebuilt from its span events (start,
 * attribute updates, renames, end), keyed by span id.
 */
import { FileReadBack, hex, type Plain } from './read-back.js';

export interface SeenSpan {
  name: string;
  kind: number;
  spanId: string;
  parent: string;
  traceId: string;
  scope: string;
  attributes: Record<string, Plain>;
  resource: Record<string, Plain>;
  ended: boolean;
  status: number | undefined;
}

/** Every span whose start is in the file at `path`. */
export function spansIn(path: string): SeenSpan[] {
  const rb = new FileReadBack(path);
  try {
    return collectSpans(rb);
  } finally {
    rb.close();
  }
}

/** The spans of the span events `rb` has not read yet. */
export function collectSpans(rb: FileReadBack): SeenSpan[] {
  const spans = new Map<string, SeenSpan>();
  for (const e of rb.spans()) {
    const id = hex(e.spanId);
    const ev = e.event;
    if (ev?.$case === 'start') {
      const scope = rb.scope(e.scopeRef);
      spans.set(id, {
        name: ev.value.name,
        kind: ev.value.kind,
        spanId: id,
        parent: hex(ev.value.parentSpanId),
        traceId: hex(e.traceId),
        scope: rb.string(scope.nameRef),
        attributes: rb.attrs(ev.value.attributes),
        resource: rb.attrs(rb.resource(scope.resourceRef).attributes),
        ended: false,
        status: undefined,
      });
      continue;
    }
    const span = spans.get(id);
    if (span === undefined) continue;
    if (ev?.$case === 'attributes') Object.assign(span.attributes, rb.attrs(ev.value.attributes));
    if (ev?.$case === 'name') span.name = ev.value.name;
    if (ev?.$case === 'end') {
      span.ended = true;
      span.status = ev.value.status?.code;
    }
  }
  return [...spans.values()];
}
