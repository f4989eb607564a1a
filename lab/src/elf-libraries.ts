import { exec } from './exec.js';

/**
 * The shared libraries `ldd` lists for a binary, the dynamic loader included, by absolute
 * path. A static binary has none. Pure parser plus a thin wrapper.
 */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const arrow = /=>\s*(\/\S+)\s*\(0x[0-9a-f]+\)/.exec(line);
    const loader = /^\s*(\/\S+)\s*\(0x[0-9a-f]+\)/.exec(line);
    const path = arrow?.[1] ?? loader?.[1];
    if (path) paths.add(path);
  }
  return [...paths];
}

export async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await exec('ldd', [binary]);
  // ldd exits 1 with "not a dynamic executable" for static binaries.
  return result.code === 0 ? parseLdd(result.stdout) : [];
}
