import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { YAMLError, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { API_ROLES, type ApiRole } from './api-role.js';

/**
 * Who may call the API, read once at boot (from controller.config.ts):
 *
 *   HOTSWAP_TOKENS_FILE  a YAML or JSON list of {name, role, sha256 | token}; prefer sha256
 *                        (the hex SHA-256 of the token: `printf %s "$TOKEN" | sha256sum`)
 *   HOTSWAP_TOKENS       name:role:token,... (for tests and small setups)
 *   HOTSWAP_AUTH         `tokens` (default) or `open`: no authentication, every caller is
 *                        an operator. Without tokens and without `open` the controller refuses
 *                        to start.
 *
 * Only the SHA-256 of each token is kept in memory. Error messages name the entry and the
 * field, never the token.
 */

export interface ApiToken {
  readonly name: string;
  readonly role: ApiRole;
  /** SHA-256 of the token's UTF-8 bytes (32 bytes). */
  readonly sha256: Buffer;
}

export type AuthConfig =
  | { readonly mode: 'open' }
  | { readonly mode: 'tokens'; readonly tokens: readonly ApiToken[]; readonly sources: readonly string[] };

/** Shorter tokens are guessable; `openssl rand -hex 32` gives 64 characters. */
export const MIN_TOKEN_LENGTH = 16;

const tokenEntrySchema = z
  .object({
    name: z
      .string({ error: 'name is required' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'name: letters, digits, ".", "_", "@", "-", at most 64'),
    role: z.enum(API_ROLES, { error: `role must be one of ${API_ROLES.join(', ')}` }),
    token: z
      .string()
      .min(MIN_TOKEN_LENGTH, `token: at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`)
      .regex(/^[\x21-\x7e]+$/, 'token: printable ASCII without spaces')
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'sha256: the hex SHA-256 of the token, 64 hex digits')
      .optional(),
  })
  .strict()
  .refine((entry) => (entry.token === undefined) !== (entry.sha256 === undefined), {
    message: 'give exactly one of token or sha256',
  });

export class AuthConfigError extends Error {
  readonly code = 'AUTH_CONFIG_INVALID';
  override readonly name = 'AuthConfigError';
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join('\n'));
  }
}

export const NO_TOKENS_MESSAGE =
  'no API tokens configured: set HOTSWAP_TOKENS_FILE (a YAML or JSON list of {name, role, sha256 or token}) ' +
  'or HOTSWAP_TOKENS (name:role:token,...); or set HOTSWAP_AUTH=open to run without authentication ' +
  '(every caller is then an operator)';

export const sha256Of = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function loadAuthConfig(
  env: Readonly<Record<string, string | undefined>>,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): AuthConfig {
  const problems: { variable: string; message: string }[] = [];
  const mode = env['HOTSWAP_AUTH'] || 'tokens';
  if (mode !== 'tokens' && mode !== 'open') {
    problems.push({ variable: 'HOTSWAP_AUTH', message: `must be "open" or "tokens", got ${JSON.stringify(mode)}` });
  }
  const tokens: ApiToken[] = [];
  const sources: string[] = [];
  const file = env['HOTSWAP_TOKENS_FILE'];
  if (file) {
    sources.push(file);
    tokens.push(
      ...tokensFromFile(file, readText, (message) => problems.push({ variable: 'HOTSWAP_TOKENS_FILE', message })),
    );
  }
  const list = env['HOTSWAP_TOKENS'];
  if (list) {
    sources.push('HOTSWAP_TOKENS');
    tokens.push(...tokensFromList(list, (message) => problems.push({ variable: 'HOTSWAP_TOKENS', message })));
  }
  checkUnique(tokens, (message) => problems.push({ variable: 'HOTSWAP_TOKENS', message }));

  if (mode === 'open' && (file || list)) {
    problems.push({
      variable: 'HOTSWAP_AUTH',
      message: 'is "open" but API tokens are configured too: unset HOTSWAP_AUTH to use the tokens, or remove them',
    });
  }
  // An empty list counts as none: a controller nobody can call is a misconfiguration too.
  if (mode === 'tokens' && tokens.length === 0 && problems.length === 0) {
    problems.push({ variable: 'HOTSWAP_TOKENS', message: NO_TOKENS_MESSAGE });
  }
  if (problems.length > 0) throw new AuthConfigError(problems);
  return mode === 'open' ? { mode: 'open' } : { mode: 'tokens', tokens, sources };
}

function tokensFromFile(path: string, readText: (path: string) => string, problem: (m: string) => void): ApiToken[] {
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    problem(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return [];
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser for both.
    document = parseYaml(text);
  } catch (error) {
    // The parser's own message quotes the source line, which may hold a token: give the position only.
    const where = error instanceof YAMLError && error.linePos ? `line ${error.linePos[0].line}` : 'somewhere';
    problem(`${path} is not valid YAML or JSON (${where}: ${error instanceof YAMLError ? error.code : 'parse error'})`);
    return [];
  }
  if (!Array.isArray(document)) {
    problem(`${path} must hold a list of {name, role, sha256 | token} entries`);
    return [];
  }
  return document.flatMap((entry, index) => toToken(entry, `${path} entry ${index + 1}`, problem));
}

/** `name:role:token,...`; the token is everything after the second colon. */
function tokensFromList(list: string, problem: (m: string) => void): ApiToken[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .flatMap((item, index) => {
      const [name, role, ...rest] = item.split(':');
      if (rest.length === 0) {
        problem(`entry ${index + 1} is not name:role:token`);
        return [];
      }
      return toToken({ name, role, token: rest.join(':') }, `entry ${index + 1} (${name})`, problem);
    });
}

function toToken(entry: unknown, where: string, problem: (m: string) => void): ApiToken[] {
  const parsed = tokenEntrySchema.safeParse(entry);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problem(`${where}: ${issue.message}`);
    return [];
  }
  const { name, role, token, sha256 } = parsed.data;
  return [{ name, role, sha256: sha256 ? Buffer.from(sha256, 'hex') : sha256Of(token ?? '') }];
}

function checkUnique(tokens: readonly ApiToken[], problem: (m: string) => void): void {
  const names = new Set<string>();
  const digests = new Map<string, string>();
  for (const token of tokens) {
    if (names.has(token.name)) problem(`two tokens are named ${JSON.stringify(token.name)}: names must be unique`);
    names.add(token.name);
    const digest = token.sha256.toString('hex');
    const other = digests.get(digest);
    if (other !== undefined && other !== token.name) {
      problem(`tokens ${JSON.stringify(other)} and ${JSON.stringify(token.name)} are the same token`);
    }
    digests.set(digest, token.name);
  }
}
