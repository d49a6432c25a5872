import type { otlpCommon, otlpLogs, otlpLogsService, otlpResource, otlpTrace, otlpTraceService } from '@otlp-mmap/protocol';
import type { DictionaryView, ResolvedScope } from '../dictionary/dictionary-view.js';
import { DictionaryError } from '../dictionary/dictionary-view.js';

const UNRESOLVED_SCOPE: ResolvedScope = {
  ref: -1n,
  scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
  resourceRef: -1n,
  resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
};

interface Group<T> {
  readonly resource: otlpResource.Resource;
  readonly scopes: Map<bigint, { scope: otlpCommon.InstrumentationScope; items: T[] }>;
}

/**
 * Groups items by resource, then scope (scope_ref -> scope -> resource_ref).
 * A scope that does not resolve puts its items under an empty scope and
 * resource, and calls `onUnresolved`.
 */
function group<T>(
  items: readonly { readonly scopeRef: bigint; readonly item: T }[],
  dictionary: DictionaryView,
  onUnresolved: () => void,
): Group<T>[] {
  const resources = new Map<bigint, Group<T>>();
  const scopeCache = new Map<bigint, ResolvedScope>();
  for (const { scopeRef, item } of items) {
    let resolved = scopeCache.get(scopeRef);
    if (!resolved) {
      try {
        resolved = dictionary.scope(scopeRef);
      } catch (error) {
        if (!(error instanceof DictionaryError)) throw error;
        onUnresolved();
        resolved = UNRESOLVED_SCOPE;
      }
      scopeCache.set(scopeRef, resolved);
    }
    let g = resources.get(resolved.resourceRef);
    if (!g) {
      g = { resource: resolved.resource, scopes: new Map() };
      resources.set(resolved.resourceRef, g);
    }
    let s = g.scopes.get(resolved.ref);
    if (!s) {
      s = { scope: resolved.scope, items: [] };
      g.scopes.set(resolved.ref, s);
    }
    s.items.push(item);
  }
  return [...resources.values()];
}

/** Builds one OTLP trace export request from finished spans. */
export function traceRequest(
  spans: readonly { readonly scopeRef: bigint; readonly span: otlpTrace.Span }[],
  dictionary: DictionaryView,
  onUnresolved: () => void,
): otlpTraceService.ExportTraceServiceRequest {
  const groups = group(spans.map((s) => ({ scopeRef: s.scopeRef, item: s.span })), dictionary, onUnresolved);
  return {
    resourceSpans: groups.map((g) => ({
      resource: g.resource,
      schemaUrl: '',
      scopeSpans: [...g.scopes.values()].map((s) => ({ scope: s.scope, spans: s.items, schemaUrl: '' })),
    })),
  };
}

/** Builds one OTLP logs export request from log records. */
export function logsRequest(
  records: readonly { readonly scopeRef: bigint; readonly record: otlpLogs.LogRecord }[],
  dictionary: DictionaryView,
  onUnresolved: () => void,
): otlpLogsService.ExportLogsServiceRequest {
  const groups = group(records.map((r) => ({ scopeRef: r.scopeRef, item: r.record })), dictionary, onUnresolved);
  return {
    resourceLogs: groups.map((g) => ({
      resource: g.resource,
      schemaUrl: '',
      scopeLogs: [...g.scopes.values()].map((s) => ({ scope: s.scope, logRecords: s.items, schemaUrl: '' })),
    })),
  };
}
