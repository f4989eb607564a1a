import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLdd } from '../src/elf-libraries.js';
import { parseCandidate, parseImageDependency } from '../src/kernel-cache.js';

describe('host tool output', () => {
  it('ldd: libraries and the loader, by absolute path; the vDSO is not a file', () => {
    const output = `\tlinux-vdso.so.1 (0x00007ffbf153b000)
\tlibzstd.so.1 => /lib/x86_64-linux-gnu/libzstd.so.1 (0x00007ffbf1442000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ffbf0c1e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007ffbf153d000)
`;
    assert.deepEqual(parseLdd(output), [
      '/lib/x86_64-linux-gnu/libzstd.so.1',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('apt-cache: the versioned image package and its candidate version', () => {
    assert.equal(
      parseImageDependency('linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n'),
      'linux-image-6.1.0-56-amd64',
    );
    assert.equal(parseImageDependency('linux-image-amd64\n'), null);
    assert.equal(parseCandidate('x:\n  Installed: (none)\n  Candidate: 6.1.192-2\n'), '6.1.192-2');
    assert.equal(parseCandidate('x:\n  Candidate: (none)\n'), null);
  });
});
