/**
 * The field numbers of proto/mmap.proto are written in the `.proto` only:
 * every hand-written encoder and decoder takes its tags from the module
 * generated from it (`@otlp-mmap/protocol/tags`, packages/protocol/src/gen/
 * mmap-tags.ts). This test reads the TypeScript and JavaScript sources of
 * the repository (packages, tests, benchmarks, examples, scripts, the
 * binding's hand-written JS; generated code and build outputs excluded) and
 * fails on a number literal that is a tag (or a field number) of mmap.proto
 * where the code uses it as one:
 *
 * - a `case` of a `switch` on a tag (`switch (tag)`, `switch (reader.uint32())`);
 * - a comparison with a tag (`tag === 18`, `eventTag !== 90`);
 * - a constant named like a tag (`const TAG_NAME = 42`);
 * - what a writer writes as a varint (`w.uint32(18)`);
 * - an argument given to a parameter named like a tag (`writeKeyValue(w, 66, ...)`,
 *   `tagFixed64(0x39, ...)`), or like a field number (`tag(4, ...)`),
 *   parameters found by name among the functions and methods of these sources;
 * - a field number shifted into a tag (`4 << 3`);
 * - a tag byte stored into a buffer, written in hex as tag bytes are
 *   (`buf[p] = 0x0a`; decimal stores are lengths and values: `buf[p + 1] = 16`).
 *
 * Not checked: byte arrays of hand-made input in tests (malformed messages
 * whose bytes are the point of the test), and numbers elsewhere (lengths,
 * limits, enum values), which are not tags even when equal to one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tags from '@otlp-mmap/protocol/tags';
import test from 'ava';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Names of the generated constants, by tag value. */
const NAMES_BY_TAG = new Map<number, string[]>();
for (const [name, tag] of Object.entries(tags)) NAMES_BY_TAG.set(tag, [...(NAMES_BY_TAG.get(tag) ?? []), name]);
const FIELD_NUMBERS = new Set([...NAMES_BY_TAG.keys()].map((tag) => tag >>> 3));

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'target', 'gen', 'rust', '.tools', '.git']);
/** The loader napi-rs generates (a build output). */
const GENERATED_FILES = new Set(['crates/otlp-mmap-node/index.js', 'crates/otlp-mmap-node/index.d.ts']);

function sourceFiles(dir: string, recurse = true): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recurse && !SKIPPED_DIRS.has(entry.name)) out.push(...sourceFiles(path));
    } else if (SOURCE.test(entry.name) && !GENERATED_FILES.has(path)) {
      out.push(path);
    }
  }
  return out;
}

function allSources(): string[] {
  const packages = readdirSync(join(ROOT, 'packages')).flatMap((p) => [`packages/${p}/src`, `packages/${p}/bin`]);
  const dirs = [...packages, 'tests', 'bench', 'examples', 'scripts'].filter((d) => {
    try {
      return readdirSync(join(ROOT, d)) !== undefined;
    } catch {
      return false;
    }
  });
  return [...dirs.flatMap((d) => sourceFiles(d)), ...sourceFiles('crates/otlp-mmap-node', false)];
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

type ParameterKind = 'tag' | 'field';

function parameterKind(name: string): ParameterKind | undefined {
  if (/tag/i.test(name)) return 'tag';
  if (/^field(No|Number)?$/i.test(name)) return 'field';
  return undefined;
}

/** Function and method name -> (parameter position -> tag or field number), over all the sources. */
function tagParameters(files: readonly ts.SourceFile[]): Map<string, Map<number, ParameterKind>> {
  const found = new Map<string, Map<number, ParameterKind>>();
  const visit = (node: ts.Node): void => {
    let name: ts.Node | undefined;
    let fn: ts.SignatureDeclaration | undefined;
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) {
      name = node.name;
      fn = node;
    } else if (ts.isVariableDeclaration(node) && node.initializer !== undefined) {
      // const t = (field, wire) => ...
      const init = node.initializer;
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) {
        name = node.name;
        fn = init;
      }
    }
    if (name !== undefined && fn !== undefined && ts.isIdentifier(name)) {
      const functionName = name.text;
      fn.parameters.forEach((parameter, i) => {
        const kind = ts.isIdentifier(parameter.name) ? parameterKind(parameter.name.text) : undefined;
        if (kind !== undefined) found.set(functionName, (found.get(functionName) ?? new Map()).set(i, kind));
      });
    }
    ts.forEachChild(node, visit);
  };
  for (const file of files) visit(file);
  // BinaryWriter.tag(fieldNo, wireType), from @bufbuild/protobuf.
  found.set('tag', (found.get('tag') ?? new Map()).set(0, 'field'));
  return found;
}

/** A tag by its name. */
const TAGGISH = /tag/i;
/** What a `switch` on a tag switches on: a tag by its name, or the varint a tag is read as. */
const SWITCHED_TAG = /tag|\.uint32\(\)$/i;

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

/** What a literal is used as, if it is used as a tag or a field number. */
function usedAs(literal: ts.NumericLiteral, parameters: Map<string, Map<number, ParameterKind>>): ParameterKind | undefined {
  let node: ts.Node = literal;
  // `-18`, `(18)`: the expression the literal stands in.
  while (ts.isParenthesizedExpression(node.parent) || ts.isPrefixUnaryExpression(node.parent)) node = node.parent;
  const parent = node.parent;
  if (ts.isCaseClause(parent) && parent.expression === node) {
    return SWITCHED_TAG.test(parent.parent.parent.expression.getText()) ? 'tag' : undefined;
  }
  if (ts.isBinaryExpression(parent)) {
    const op = parent.operatorToken.kind;
    const other = parent.left === node ? parent.right : parent.left;
    const equality = [
      ts.SyntaxKind.EqualsEqualsEqualsToken,
      ts.SyntaxKind.ExclamationEqualsEqualsToken,
      ts.SyntaxKind.EqualsEqualsToken,
      ts.SyntaxKind.ExclamationEqualsToken,
    ];
    if (equality.includes(op)) return TAGGISH.test(other.getText()) ? 'tag' : undefined;
    if (op === ts.SyntaxKind.LessThanLessThanToken && parent.left === node && parent.right.getText() === '3') return 'field';
    if (op === ts.SyntaxKind.EqualsToken && parent.right === node && ts.isElementAccessExpression(parent.left) && /^0x/i.test(literal.getText())) return 'tag';
    return undefined;
  }
  if (ts.isVariableDeclaration(parent) && parent.initializer === node && ts.isIdentifier(parent.name)) {
    return /tag/i.test(parent.name.text) ? 'tag' : undefined;
  }
  if (ts.isCallExpression(parent) && parent.arguments.includes(node as ts.Expression)) {
    const name = calleeName(parent);
    if (name === undefined) return undefined;
    if (name === 'uint32' && ts.isPropertyAccessExpression(parent.expression)) return 'tag';
    return parameters.get(name)?.get(parent.arguments.indexOf(node as ts.Expression));
  }
  return undefined;
}

/** Every literal in `files` used as a tag or field number of mmap.proto, as `file:line: text (what it is)`. */
function tagLiterals(files: readonly ts.SourceFile[]): string[] {
  const parameters = tagParameters(files);
  const found: string[] = [];
  for (const file of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isNumericLiteral(node)) {
        const value = Number(node.text);
        const kind = usedAs(node, parameters);
        const names = kind === 'tag' ? NAMES_BY_TAG.get(value) : kind === 'field' && FIELD_NUMBERS.has(value) ? [`field ${value}`] : undefined;
        if (names !== undefined) {
          const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          const statement = node.parent.getText().split('\n')[0];
          found.push(`${relative(ROOT, join(ROOT, file.fileName))}:${line}: ${statement} (${names.join(' / ')})`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return found;
}

test('no source outside generated code spells out a tag or field number of mmap.proto', (t) => {
  const files = allSources().map(parse);
  t.true(files.length > 100, `read ${files.length} files`);
  t.deepEqual(tagLiterals(files), []);
});

test('the check finds the ways a tag is written by hand, and leaves other numbers alone', (t) => {
  const flagged = `
    function decode(reader, end) {
      switch (reader.uint32()) { case 160: break; }
      const tag = reader.uint32();
      if (tag === 18) return;
      switch (tag) { case 0x0a: break; }
    }
    const TAG_NAME = 42;
    w.uint32(66);
    w.tag(4, 2);
    const fieldTag = (5 << 3) | 2;
    function writeKeyValue(w, tag, key) {}
    writeKeyValue(w, 66, 'k');
    const t = (field, wire) => (field << 3) | wire;
    const KEY = t(1, 0);
    buf[p++] = 0x2a;
  `;
  const ignored = `
    const length = 16;
    if (reader.uint32() !== 16) return;
    buf[p + 1] = 16;
    buf[p + 19] = 8;
    if (bytes.length === 18) {}
    switch (kind) { case 24: break; }
    w.int64(160);
    const junk = new Uint8Array([0x0a, 0x7f]);
    const field = (21 << 3) | 2;
  `;
  const lines = (text: string) =>
    tagLiterals([ts.createSourceFile('probe.ts', text, ts.ScriptTarget.Latest, true)]).map((l) => l.replace(/^[^:]*:(\d+):.*$/, '$1'));
  t.deepEqual(lines(flagged), ['3', '5', '6', '8', '9', '10', '11', '13', '15', '16']);
  t.deepEqual(lines(ignored), []);
});
