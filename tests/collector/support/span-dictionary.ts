// An in-memory DictionaryView for span-table tests: key strings are "k" and
// their reference number in decimal; reference 13 does not resolve.
import type { AnyValue, KeyValueRef, otlpCommon } from '@otlp-mmap/protocol';
import { DictionaryError, type DictionaryView } from '../../../packages/collector/src/dictionary/dictionary-view.js';

export const spanDictionary: DictionaryView = {
  string: (r) => {
    if (r === 13n) throw new DictionaryError('bad', r);
    return `k${r}`;
  },
  resource: () => ({ attributes: [], droppedAttributesCount: 0, entityRefs: [] }),
  scope: () => {
    throw new Error('unused');
  },
  metric: () => {
    throw new Error('unused');
  },
  anyValue: (v: AnyValue | undefined) => ({ value: v?.value as otlpCommon.AnyValue['value'] }),
  attributes: (kvs: readonly KeyValueRef[], onDropped) =>
    kvs.flatMap((kv) => {
      try {
        return [{ key: spanDictionary.string(kv.keyRef), value: spanDictionary.anyValue(kv.value), keyStrindex: 0 }];
      } catch (e) {
        onDropped?.(e as DictionaryError);
        return [];
      }
    }),
};
