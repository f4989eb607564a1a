import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { execOk, timed } from './exec.js';
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

/**
 * CommonJS output, so that the loader below can hand V8 a code cache; `import.meta.url` (the
 * simulated host's launcher uses it) becomes the bundle's own file URL.
 */
const BANNER = "var __labImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";

/**
 * `agent.js`, what the guest runs: compiles `agent.cjs` with V8's code cache
 * (`agent.cjs.cache`) and runs it as a CommonJS module. Under TCG, compiling the bundle is a
 * good part of node's start at every cycle. The cache is made on the host when the bundle is
 * (same node binary as the guest's); V8 ignores a cache that does not match, and when there is
 * none, this run leaves one for the next.
 */
const LOADER = `'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');
const file = join(__dirname, 'agent.cjs');
const cacheFile = file + '.cache';
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (cachedData === undefined) process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const agent = new Module(file, module);
agent.filename = file;
agent.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext()(agent.exports, Module.createRequire(file), agent, file, __dirname);
`;

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
 * The agent as one file for the guest: `<destination>/agent.cjs`, its code cache, the loader
 * `agent.js`, and node-pty beside them. The guest runs `node /hotswap/agent.js swap ...`.
 */
export async function bundleAgent(destination: string): Promise<{ bytes: number; ms: number }> {
  if (!(await stat(AGENT_ONE_HOST_ENTRY).catch(() => null))) {
    throw new LabInfraError(`${AGENT_ONE_HOST_ENTRY} is missing: build the agent first ("tsc -b apps/agent")`);
  }
  await mkdir(destination, { recursive: true });
  const outfile = join(destination, 'agent.cjs');
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
      format: 'cjs',
      define: { 'import.meta.url': '__labImportMetaUrl' },
      external: EXTERNAL,
      banner: { js: BANNER },
      logLevel: 'error',
    });
    await writeFile(join(destination, 'agent.js'), LOADER);
    await writeFile(join(destination, 'package.json'), '{ "type": "commonjs" }\n');
    await copyNodePty(destination);
    // Starts the bundle once, which checks it loads and leaves agent.cjs.cache for the guest.
    await execOk(process.execPath, [join(destination, 'agent.js'), 'swap', '--help']);
  });
  return { bytes: (await stat(outfile)).size, ms };
}
