/** How a value reads in a message: `the number 2`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `the ${typeof value} ${String(value)}`;
    case 'object':
      return 'a mapping';
    default:
      return `a ${typeof value}`;
  }
}

/**
 * The message for a string field that got something else. YAML reads an unquoted `2.0` as the
 * number 2 and `0x15b3` as 5555, so for a number the message says to quote it: "expected
 * string" alone does not tell an SRE what to change. A missing field falls through to the
 * generic "required" message.
 */
export function stringTypeError(what: string) {
  return (iss: { input?: unknown }): string | undefined => {
    if (iss.input === undefined) return undefined;
    const got = describeValue(iss.input);
    if (typeof iss.input === 'number') {
      return `${what} must be a string, got ${got}: quote it, since YAML reads an unquoted 2.0 or 0x15b3 as a number`;
    }
    return `${what} must be a string, got ${got}`;
  };
}
