import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { timed } from './exec.js';
import { LabInfraError } from './lab.errors.js';
import { AGENT_ONE_HOST_ENTRY, NODE_PTY_DIR } from './lab-paths.js';

/**
 * The guest only ever runs `hotswap-agent swap ...`: the bundle's entry is the one-host mode
 * alone, as apps/agent/src/main.ts calls it. Bundling main.ts would inline the daemon too
 * (Nest, BullMQ, ioredis: 6.8 MB instead of 0.7 MB), and node parses all of it at every start,
 * which costs seconds per cycle under TCG.
 */
const ENTRY = `import { runOneHostSwap } from './${AGENT_ONE_HOST_ENTRY.split('/').pop()}';
if (process.argv[2] !== 'swap') {
  process.stderr.write('this bundle holds only the one-host mode: node agent.js swap ...\\n');
  process.exit(2);
}
runOneHostSwap(process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(\`hotswap-agent: \${error instanceof Error ? error.message : String(error)}\\n\`);
    process.exit(1);
  },
);
`;

/** node-pty stays external: its native module is copied beside the bundle. */
const EXTERNAL = ['node-pty'];

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
  if (!(await stat(AGENT_ONE_HOST_ENTRY).catch(() => null))) {
    throw new LabInfraError(`${AGENT_ONE_HOST_ENTRY} is missing: build the agent first ("tsc -b apps/agent")`);
  }
  await mkdir(destination, { recursive: true });
  const outfile = join(destination, 'agent.js');
  const { ms } = await timed(async () => {
    await build({
      stdin: { contents: ENTRY, resolveDir: dirname(AGENT_ONE_HOST_ENTRY), sourcefile: 'lab-agent-entry.js' },
      outfile,
      // Smaller to parse at every start; names stay readable enough in stack traces.
      minifyWhitespace: true,
      minifySyntax: true,
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
