import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { PathSegment } from './issue-path.js';

export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** The child of a YAML node at one path segment: the value node and, in a mapping, its key. */
function child(doc: Document, node: unknown, segment: PathSegment): { key?: Node; value?: Node } | undefined {
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (isMap(target)) {
    const pair = target.items.find(
      (item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(segment),
    );
    if (pair === undefined) return undefined;
    return { key: isScalar(pair.key) ? pair.key : undefined, value: (pair.value ?? undefined) as Node | undefined };
  }
  if (isSeq(target) && typeof segment === 'number') {
    const item = target.items[segment];
    return item === undefined || item === null ? undefined : { value: item as Node };
  }
  return undefined;
}

const isEmptyScalar = (node: Node): boolean => isScalar(node) && node.value === null;

/**
 * Where a path sits in the text: the offending value; the key itself for an issue about a key
 * (unknown key) or an empty value; the nearest existing parent's key when the path does not
 * exist (a missing field).
 */
export function locateInYaml(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
  atKey: boolean,
): TextPosition | undefined {
  let current: { key?: Node; value?: Node } = { value: (doc.contents ?? undefined) as Node | undefined };
  let missing = false;
  for (const segment of path) {
    const next = current.value === undefined ? undefined : child(doc, current.value, segment);
    if (next === undefined) {
      missing = true;
      break;
    }
    current = next;
  }
  const useKey = missing || atKey || current.value === undefined || isEmptyScalar(current.value);
  const node = (useKey ? current.key : undefined) ?? current.value;
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = lineCounter.linePos(offset);
  return line === 0 ? undefined : { line, column: col };
}
