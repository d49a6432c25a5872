import type { otlpCommon, otlpLogs, otlpLogsService, otlpResource, otlpTrace, otlpTraceService } from '@otlp-mmap/protocol';
import type { DictionaryView, ResolvedScope } from '../dictionary/dictionary-view.js';
import { DictionaryError } from '../dictionary/dictionary-view.js';

const UNRESOLVED_SCOPE: ResolvedScope = {
  ref: -1n,
  scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
  schemaUrl: '',
  resourceRef: -1n,
  resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
  resourceSchemaUrl: '',
};

interface ScopeGroup<T> {
  readonly scope: otlpCommon.InstrumentationScope;
  readonly schemaUrl: string;
  readonly items: T[];
}

interface Group<T> {
  readonly resource: otlpResource.Resource;
  readonly schemaUrl: string;
  readonly scopes: Map<bigint, ScopeGroup<T>>;
}

/**
 * Groups items by resource, then scope (scope_ref -> scope -> resource_ref):
 * by dictionary reference, so two scopes (or resources) that differ in
 * anything, their `schema_url` extension included, are separate groups.
 * A scope that does not resolve puts its items under an empty scope and
 * resource, and calls `onUnresolved`. Consecutive items of one scope (the
 * usual case) reuse the previous item's group without any look-up.
 */
function group<S, T>(
  sources: readonly S[],
  scopeRefOf: (source: S) => bigint,
  itemOf: (source: S) => T,
  dictionary: DictionaryView,
  onUnresolved: () => void,
): Group<T>[] {
  const resources = new Map<bigint, Group<T>>();
  const byScopeRef = new Map<bigint, ScopeGroup<T>>();
  let lastRef: bigint | undefined;
  let last: ScopeGroup<T> | undefined;
  for (const source of sources) {
    const scopeRef = scopeRefOf(source);
    if (last === undefined || scopeRef !== lastRef) {
      last = byScopeRef.get(scopeRef);
      if (!last) {
        last = scopeGroup(scopeRef, resources, dictionary, onUnresolved);
        byScopeRef.set(scopeRef, last);
      }
      lastRef = scopeRef;
    }
    last.items.push(itemOf(source));
  }
  return [...resources.values()];
}

/** The group of one scope reference, created in its resource's group on first use. */
function scopeGroup<T>(scopeRef: bigint, resources: Map<bigint, Group<T>>, dictionary: DictionaryView, onUnresolved: () => void): ScopeGroup<T> {
  let resolved: ResolvedScope;
  try {
    resolved = dictionary.scope(scopeRef);
  } catch (error) {
    if (!(error instanceof DictionaryError)) throw error;
    onUnresolved();
    resolved = UNRESOLVED_SCOPE;
  }
  let g = resources.get(resolved.resourceRef);
  if (!g) {
    g = { resource: resolved.resource, schemaUrl: resolved.resourceSchemaUrl, scopes: new Map() };
    resources.set(resolved.resourceRef, g);
  }
  let s = g.scopes.get(resolved.ref);
  if (!s) {
    s = { scope: resolved.scope, schemaUrl: resolved.schemaUrl, items: [] };
    g.scopes.set(resolved.ref, s);
  }
  return s;
}

/** Builds one OTLP trace export request from finished spans. */
export function traceRequest(
  spans: readonly { readonly scopeRef: bigint; readonly span: otlpTrace.Span }[],
  dictionary: DictionaryView,
  onUnresolved: () => void,
): otlpTraceService.ExportTraceServiceRequest {
  const groups = group(
    spans,
    (s) => s.scopeRef,
    (s) => s.span,
    dictionary,
    onUnresolved,
  );
  return {
    resourceSpans: groups.map((g) => ({
      resource: g.resource,
      schemaUrl: g.schemaUrl,
      scopeSpans: [...g.scopes.values()].map((s) => ({ scope: s.scope, spans: s.items, schemaUrl: s.schemaUrl })),
    })),
  };
}

/** Builds one OTLP logs export request from log records. */
export function logsRequest(
  records: readonly { readonly scopeRef: bigint; readonly record: otlpLogs.LogRecord }[],
  dictionary: DictionaryView,
  onUnresolved: () => void,
): otlpLogsService.ExportLogsServiceRequest {
  const groups = group(
    records,
    (r) => r.scopeRef,
    (r) => r.record,
    dictionary,
    onUnresolved,
  );
  return {
    resourceLogs: groups.map((g) => ({
      resource: g.resource,
      schemaUrl: g.schemaUrl,
      scopeLogs: [...g.scopes.values()].map((s) => ({ scope: s.scope, logRecords: s.items, schemaUrl: s.schemaUrl })),
    })),
  };
}
