import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { LabInfraError } from './lab.errors.js';

/**
 * Packs a staging root into an uncompressed newc cpio archive, owned by root. Uncompressed on
 * purpose: the guest kernel unpacks it under TCG, where decompressing ~100 MB costs seconds.
 */
export async function packCpio(root: string, outFile: string): Promise<number> {
  const out = await open(outFile, 'w');
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        'sh',
        ['-c', 'cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet', 'sh', root],
        { stdio: ['ignore', out.fd, 'inherit'] },
      );
      child.on('error', reject);
      child.on('exit', (status) => resolve(status ?? 1));
    });
    if (code !== 0) throw new LabInfraError(`cpio could not pack ${root} (exit ${code})`);
  } finally {
    await out.close();
  }
  return (await stat(outFile)).size;
}
