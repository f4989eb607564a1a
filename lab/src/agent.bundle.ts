import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { timed } from './exec.js';
import { LabInfraError } from './lab.errors.js';
import { AGENT_ENTRY, NODE_PTY_DIR } from './lab-paths.js';

/**
 * Optional packages Nest imports lazily and the agent never uses; left unresolved, they fail
 * only if reached. node-pty stays external: its native module is copied beside the bundle.
 */
const EXTERNAL = [
  'node-pty',
  '@nestjs/microservices',
  '@nestjs/microservices/*',
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  'class-validator',
  'class-transformer',
];

/** ESM output; CommonJS dependencies still call require(), so give them one. */
const BANNER =
  "import { createRequire as __labRequire } from 'node:module'; const require = __labRequire(import.meta.url);";

async function copyNodePty(destination: string): Promise<void> {
  const native = join(NODE_PTY_DIR, 'build', 'Release', 'pty.node');
  if (!(await stat(native).catch(() => null))) {
    throw new LabInfraError(`node-pty's native module is missing (${native}): run "npm rebuild node-pty"`);
  }
  const target = join(destination, 'node_modules', 'node-pty');
  await cp(join(NODE_PTY_DIR, 'package.json'), join(target, 'package.json'));
  await cp(join(NODE_PTY_DIR, 'lib'), join(target, 'lib'), {
    recursive: true,
    filter: (source) => !/\.(test\.js|map)$/.test(source),
  });
  await cp(native, join(target, 'build', 'Release', 'pty.node'));
}

/**
 * The agent as one file for the guest: `<destination>/agent.js` (ESM, with a package.json
 * saying so) and node-pty beside it. The guest runs `node /hotswap/agent.js swap ...`.
 */
export async function bundleAgent(destination: string): Promise<{ bytes: number; ms: number }> {
  if (!(await stat(AGENT_ENTRY).catch(() => null))) {
    throw new LabInfraError(`${AGENT_ENTRY} is missing: build the agent first ("tsc -b apps/agent")`);
  }
  await mkdir(destination, { recursive: true });
  const outfile = join(destination, 'agent.js');
  const { ms } = await timed(async () => {
    await build({
      entryPoints: [AGENT_ENTRY],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      external: EXTERNAL,
      banner: { js: BANNER },
      logLevel: 'error',
    });
    await writeFile(join(destination, 'package.json'), '{ "type": "module" }\n');
    await copyNodePty(destination);
  });
  return { bytes: (await stat(outfile)).size, ms };
}
