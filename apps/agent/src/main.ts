import { loadAgentConfig } from './config/agent.config.js';
import { runDaemon } from './daemon.js';

/** `hotswap-agent [flags]` runs the daemon. */
runDaemon(loadAgentConfig(process.argv.slice(2), process.env)).catch((error: unknown) => {
  process.stderr.write(`hotswap-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
