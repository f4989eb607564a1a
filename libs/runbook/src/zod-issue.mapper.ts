import { z } from 'zod';
import type { PathSegment } from './issue-path.js';
import { unknownKeyMessage } from './key-suggestion.js';
import { describeValue } from './value-description.js';

/** An issue before it is located in a text: the path is still a list of segments. */
export interface RawRunbookIssue {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** True when the issue is about a key itself (an unknown key), not the key's value. */
  readonly atKey: boolean;
}

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};

const pathKey = (path: readonly PropertyKey[]): string => JSON.stringify(path.map(String));

/**
 * Turns zod's issues into runbook issues, one parse at a time. Zod reports unknown keys as one
 * issue on the object; this splits them into one issue per key (so each has its own path and
 * line) and suggests the closest known key, read from the object schema while zod reports
 * (`iss.inst`) and kept by path until the issues are mapped.
 */
export class ZodIssueMapper {
  private readonly knownKeys = new Map<string, string[]>();

  /** Pass as the `error` option of `safeParse`: schemas' own messages take precedence. */
  readonly errorMap: z.core.$ZodErrorMap = (iss) => {
    switch (iss.code) {
      case 'unrecognized_keys':
        if (iss.inst instanceof z.ZodObject) this.knownKeys.set(pathKey(iss.path ?? []), Object.keys(iss.inst.shape));
        return undefined;
      case 'invalid_type': {
        const expected = EXPECTED[iss.expected] ?? iss.expected;
        if (iss.input === undefined) return `required: expected ${expected}`;
        return `expected ${expected}, got ${describeValue(iss.input)}`;
      }
      case 'invalid_value':
        if (iss.input === undefined)
          return `required: ${iss.values.map((value) => JSON.stringify(value)).join(' or ')}`;
        return `must be ${iss.values.map((value) => JSON.stringify(value)).join(' or ')}, got ${describeValue(iss.input)}`;
      default:
        return undefined;
    }
  };

  map(issues: readonly z.core.$ZodIssue[]): RawRunbookIssue[] {
    return issues.flatMap((issue): RawRunbookIssue[] => {
      const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
      if (issue.code !== 'unrecognized_keys') return [{ path, message: issue.message, atKey: false }];
      const known = this.knownKeys.get(pathKey(issue.path)) ?? [];
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(key, known), atKey: true }));
    });
  }
}
