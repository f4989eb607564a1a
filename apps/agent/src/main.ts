/**
 * `hotswap-agent swap ...` runs one swap on this host; `hotswap-agent [flags]` runs the daemon.
 * Each mode is imported only when chosen: the one-host mode loads neither Nest nor BullMQ,
 * which matters where the agent starts often on a slow machine (the kernel lab's guest).
 */
const fail = (error: unknown): never => {
  process.stderr.write(`hotswap-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
};

async function main(): Promise<void> {
  if (process.argv[2] === 'swap') {
    const { runOneHostSwap } = await import('./one-host/one-host.command.js');
    process.exit(await runOneHostSwap(process.argv.slice(3)));
  }
  const [{ loadAgentConfig }, { runDaemon }] = await Promise.all([
    import('./config/agent.config.js'),
    import('./daemon.js'),
  ]);
  await runDaemon(loadAgentConfig(process.argv.slice(2), process.env));
}

main().catch(fail);
