import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Debian packages the tests and the demo need beyond npm, by the command that proves each is
 * there. On a fresh machine they are installed with apt-get (as root, non-interactive).
 */
const PACKAGES: Readonly<Record<string, readonly { command: string; pkg: string }[]>> = {
  // redis-cli (redis-tools) builds the private Redis Cluster; Debian's redis-server pulls it in,
  // but a machine may have the server from elsewhere.
  redis: [
    { command: 'redis-server', pkg: 'redis-server' },
    { command: 'redis-cli', pkg: 'redis-tools' },
  ],
  // Debian's prometheus package ships both promtool (rule and metric checks) and the server.
  promtool: [{ command: 'promtool', pkg: 'prometheus' }],
};

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemDeps(names: readonly string[]): void {
  const needed = names.flatMap((name) => {
    const entry = PACKAGES[name];
    if (!entry) throw new Error(`unknown system dependency "${name}" (known: ${Object.keys(PACKAGES).join(', ')})`);
    return entry;
  });
  const toInstall = [...new Set(needed.filter((entry) => !has(entry.command)).map((entry) => entry.pkg))];
  if (toInstall.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${toInstall.join(', ')}: install with "sudo apt-get install -y ${toInstall.join(' ')}"`);
  }
  console.error(`installing ${toInstall.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...toInstall], { stdio: 'inherit', env });
}
