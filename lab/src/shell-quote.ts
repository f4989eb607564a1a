/** Quotes one word for a POSIX shell: 'it'\''s' . */
export const shQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** `NAME='value'` lines for a file the guest's shell sources. */
export function shellEnv(vars: Readonly<Record<string, string | number>>): string {
  return Object.entries(vars)
    .map(([name, value]) => `${name}=${shQuote(String(value))}\n`)
    .join('');
}
