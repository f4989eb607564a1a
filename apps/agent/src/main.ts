import { loadAgentConfig } from './config/agent.config.js';
import { runDaemon } from './daemon.js';
import { runOneHostSwap } from './one-host/one-host.command.js';

/** `hotswap-agent swap ...` runs one swap on this host; `hotswap-agent [flags]` runs the daemon. */
const fail = (error: unknown): never => {
  process.stderr.write(`hotswap-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
};

if (process.argv[2] === 'swap') {
  runOneHostSwap(process.argv.slice(3)).then((code) => process.exit(code), fail);
} else {
  runDaemon(loadAgentConfig(process.argv.slice(2), process.env)).catch(fail);
}
