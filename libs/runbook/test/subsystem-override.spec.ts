import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRunbook } from '../src/index.js';
import { issueAt, MINIMAL } from './runbook.fixtures.js';

const withSpec = (lines: string): string => `${MINIMAL}${lines}\n`;

describe('spec.subsystem: the runbook overrides what the agent predicts', () => {
  it('is optional; any of name, revokeScheme, fopsOwner and errno may be given', () => {
    assert.equal(parseRunbook(MINIMAL).spec.subsystem, undefined);
    assert.deepEqual(parseRunbook(withSpec('  subsystem: { name: vfio }')).spec.subsystem, { name: 'vfio' });
    assert.deepEqual(
      parseRunbook(withSpec('  subsystem: { revokeScheme: wait, fopsOwner: driver, errno: EIO }')).spec.subsystem,
      { revokeScheme: 'wait', fopsOwner: 'driver', errno: 'EIO' },
    );
  });

  it('refuses bad values and unknown keys, naming the field', () => {
    const at = (text: string, field: string) => issueAt(withSpec(`  subsystem: ${text}`), `spec.subsystem.${field}`);
    assert.match(at('{ revokeScheme: block }', 'revokeScheme').message, /revoke|wait/);
    assert.match(at('{ fopsOwner: kernel }', 'fopsOwner').message, /driver|subsystem/);
    assert.match(at('{ errno: enodev }', 'errno').message, /a name like ENODEV or EIO/);
    assert.match(at('{ name: VFIO }', 'name').message, /lowercase letters, digits and "-"/);
    assert.match(at('{ revokeSchem: wait }', 'revokeSchem').message, /did you mean "revokeScheme"/);
  });
});
