import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { requiredRole } from '../src/auth/access.policy.js';
import { AuthConfigError, NO_TOKENS_MESSAGE, loadAuthConfig, type AuthConfig } from '../src/auth/auth.config.js';
import { TokenAuthenticator } from '../src/auth/token.authenticator.js';

const OPERATOR_TOKEN = 'op-0123456789abcdef';
const READER_TOKEN = 'ro-0123456789abcdef';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The problems a configuration is refused for, as `VARIABLE: message` lines. */
function problems(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  try {
    loadAuthConfig(env, (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    });
  } catch (error) {
    assert.ok(error instanceof AuthConfigError);
    return error.problems.map((p) => `${p.variable}: ${p.message}`);
  }
  assert.fail('the configuration was accepted');
}

function tokens(config: AuthConfig): { name: string; role: string; sha256: string }[] {
  assert.equal(config.mode, 'tokens');
  return config.mode === 'tokens'
    ? config.tokens.map((t) => ({ name: t.name, role: t.role, sha256: t.sha256.toString('hex') }))
    : [];
}

describe('loadAuthConfig', () => {
  it('refuses to run with no tokens unless HOTSWAP_AUTH=open', () => {
    assert.deepEqual(problems({}), [`HOTSWAP_TOKENS: ${NO_TOKENS_MESSAGE}`]);
    assert.deepEqual(problems({ HOTSWAP_TOKENS_FILE: '/empty.yaml' }, { '/empty.yaml': '[]' }), [
      `HOTSWAP_TOKENS: ${NO_TOKENS_MESSAGE}`,
    ]);
    assert.deepEqual(loadAuthConfig({ HOTSWAP_AUTH: 'open' }), { mode: 'open' });
  });

  it('reads HOTSWAP_TOKENS as name:role:token, keeping only hashes', () => {
    const config = loadAuthConfig({
      HOTSWAP_TOKENS: ` alice:operator:${OPERATOR_TOKEN} , grafana:read-only:${READER_TOKEN}:with:colons`,
    });
    assert.deepEqual(tokens(config), [
      { name: 'alice', role: 'operator', sha256: sha256(OPERATOR_TOKEN) },
      { name: 'grafana', role: 'read-only', sha256: sha256(`${READER_TOKEN}:with:colons`) },
    ]);
  });

  it('reads a YAML or JSON tokens file with sha256 or plain tokens, and merges HOTSWAP_TOKENS', () => {
    const yaml = `# API tokens\n- name: alice\n  role: operator\n  sha256: ${sha256(OPERATOR_TOKEN).toUpperCase()}\n`;
    const json = JSON.stringify([{ name: 'grafana', role: 'read-only', token: READER_TOKEN }]);
    const files = { '/etc/hotswap/tokens.yaml': yaml, '/etc/hotswap/tokens.json': json };
    const read = (path: string): string => files[path as keyof typeof files];
    assert.deepEqual(tokens(loadAuthConfig({ HOTSWAP_TOKENS_FILE: '/etc/hotswap/tokens.yaml' }, read)), [
      { name: 'alice', role: 'operator', sha256: sha256(OPERATOR_TOKEN) },
    ]);
    const both = loadAuthConfig(
      { HOTSWAP_TOKENS_FILE: '/etc/hotswap/tokens.json', HOTSWAP_TOKENS: `ci:operator:${OPERATOR_TOKEN}` },
      read,
    );
    assert.deepEqual(
      tokens(both).map((t) => t.name),
      ['grafana', 'ci'],
    );
  });

  it('names every problem, and never repeats a token in a message', () => {
    const secret = 'supersecret-0123456789';
    const file = [
      { name: 'a', role: 'admin', token: secret },
      { name: 'b', role: 'operator' },
      { name: 'c', role: 'operator', token: 'short' },
      { name: 'd', role: 'operator', token: secret, sha256: sha256(secret) },
      { name: 'e', role: 'operator', sha256: 'not-hex' },
      { name: 'f', role: 'operator', token: secret, extra: 1 },
    ];
    const found = problems(
      { HOTSWAP_TOKENS_FILE: '/t.json', HOTSWAP_TOKENS: `x:operator,y:operator:${secret}` },
      { '/t.json': JSON.stringify(file) },
    );
    const text = found.join('\n');
    assert.doesNotMatch(text, new RegExp(secret));
    for (const expected of [
      /\/t\.json entry 1: role must be one of read-only, operator/,
      /\/t\.json entry 2: give exactly one of token or sha256/,
      /\/t\.json entry 3: token: at least 16 characters/,
      /\/t\.json entry 4: give exactly one of token or sha256/,
      /\/t\.json entry 5: sha256: the hex SHA-256/,
      /\/t\.json entry 6: Unrecognized key: "extra"/,
      /HOTSWAP_TOKENS: entry 1 is not name:role:token/,
    ]) {
      assert.match(text, expected);
    }
  });

  it('refuses duplicate names, one token under two names, and open mode with tokens', () => {
    assert.deepEqual(problems({ HOTSWAP_TOKENS: `a:operator:${OPERATOR_TOKEN},a:read-only:${READER_TOKEN}` }), [
      'HOTSWAP_TOKENS: two tokens are named "a": names must be unique',
    ]);
    assert.deepEqual(problems({ HOTSWAP_TOKENS: `a:operator:${OPERATOR_TOKEN},b:read-only:${OPERATOR_TOKEN}` }), [
      'HOTSWAP_TOKENS: tokens "a" and "b" are the same token',
    ]);
    assert.match(
      problems({ HOTSWAP_AUTH: 'open', HOTSWAP_TOKENS: `a:operator:${OPERATOR_TOKEN}` }).join('\n'),
      /HOTSWAP_AUTH: is "open" but API tokens are configured too/,
    );
    assert.match(problems({ HOTSWAP_AUTH: 'none' }).join('\n'), /HOTSWAP_AUTH: must be "open" or "tokens"/);
  });

  it('reports an unreadable or malformed file without quoting it', () => {
    assert.match(problems({ HOTSWAP_TOKENS_FILE: '/missing.yaml' }).join(), /cannot read \/missing\.yaml: ENOENT/);
    const broken = `- name: a\n  token: "${OPERATOR_TOKEN}\n  role: [operator`;
    const text = problems({ HOTSWAP_TOKENS_FILE: '/b.yaml' }, { '/b.yaml': broken }).join();
    assert.match(text, /\/b\.yaml is not valid YAML or JSON \(line \d+/);
    assert.doesNotMatch(text, new RegExp(OPERATOR_TOKEN));
    assert.match(
      problems({ HOTSWAP_TOKENS_FILE: '/o.yaml' }, { '/o.yaml': 'alice: operator' }).join(),
      /must hold a list/,
    );
  });
});

describe('TokenAuthenticator', () => {
  const authenticator = new TokenAuthenticator(
    loadAuthConfig({ HOTSWAP_TOKENS: `alice:operator:${OPERATOR_TOKEN},grafana:read-only:${READER_TOKEN}` }),
  );

  it('knows bearer tokens by their hash', () => {
    assert.deepEqual(authenticator.authenticate(`Bearer ${OPERATOR_TOKEN}`), {
      ok: true,
      principal: { name: 'alice', role: 'operator' },
    });
    assert.deepEqual(authenticator.authenticate(`bearer  ${READER_TOKEN} `), {
      ok: true,
      principal: { name: 'grafana', role: 'read-only' },
    });
  });

  it('tells a missing, a malformed and an unknown token apart', () => {
    assert.deepEqual(authenticator.authenticate(undefined), { ok: false, reason: 'missing' });
    assert.deepEqual(authenticator.authenticate('  '), { ok: false, reason: 'missing' });
    assert.deepEqual(authenticator.authenticate(OPERATOR_TOKEN), { ok: false, reason: 'malformed' });
    assert.deepEqual(authenticator.authenticate('Bearer a b'), { ok: false, reason: 'malformed' });
    assert.deepEqual(authenticator.authenticate(`Bearer ${OPERATOR_TOKEN}x`), { ok: false, reason: 'invalid' });
  });

  it('takes the token as a Basic password only where asked to (the docs)', () => {
    const basic = `Basic ${Buffer.from(`anyone:${READER_TOKEN}`).toString('base64')}`;
    assert.deepEqual(authenticator.authenticate(basic), { ok: false, reason: 'malformed' });
    assert.deepEqual(authenticator.authenticate(basic, { basic: true }), {
      ok: true,
      principal: { name: 'grafana', role: 'read-only' },
    });
  });

  it('makes everyone an anonymous operator in open mode', () => {
    const open = new TokenAuthenticator({ mode: 'open' });
    assert.deepEqual(open.authenticate(undefined), { ok: true, principal: { name: 'anonymous', role: 'operator' } });
  });
});

describe('requiredRole', () => {
  it('leaves /healthz and /metrics open, reads need read-only, changes need operator', () => {
    assert.equal(requiredRole('GET', '/healthz'), null);
    assert.equal(requiredRole('GET', '/metrics/'), null);
    assert.equal(requiredRole('POST', '/metrics'), 'operator');
    assert.equal(requiredRole('GET', '/metrics-extra'), 'read-only');
    assert.equal(requiredRole('GET', '/v1/rollouts'), 'read-only');
    assert.equal(requiredRole('HEAD', '/openapi.json'), 'read-only');
    assert.equal(requiredRole('GET', '/docs/index.html'), 'read-only');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) {
      assert.equal(requiredRole(method, '/v1/rollouts/r1/pause'), 'operator');
    }
  });
});
