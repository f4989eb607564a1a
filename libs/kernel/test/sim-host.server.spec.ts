import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { KernelActionError } from '../src/kernel-action.error.js';
import { ensureSimHost } from '../src/sim/sim-host.launcher.js';
import { SimHostError } from '../src/sim/sim-rpc.protocol.js';
import { SimKernelAdapter } from '../src/sim/sim.adapter.js';
import { ignoring, MISC, miscScenario, VFIO, vfioScenario } from './sim.fixtures.js';

const mainPath = fileURLToPath(new URL('../src/sim/sim-host.main.js', import.meta.url));

/** misc (revoke) and vfio (wait) on one host; one app ignores everything, holding both nodes. */
function scenarioYaml(): string {
  const misc = miscScenario([]);
  const vfio = vfioScenario([]);
  return stringify({
    host: 'rpc-host',
    timing: { unbindMs: 5, unloadMs: 10, loadMs: 10, probeMs: 5 },
    modules: [...misc.modules!, ...vfio.modules!],
    moduleFiles: [...misc.moduleFiles!, ...vfio.moduleFiles!],
    drivers: [...misc.drivers!, ...vfio.drivers!],
    devices: [...misc.devices!, ...vfio.devices!],
    processes: [ignoring('holder', ['/dev/hsmisc0', '/dev/vfio/12'], { pid: 4242 })],
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('sim host over a unix socket (real child process)', () => {
  let dir: string;
  let scenarioPath: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hs-sim-'));
    scenarioPath = join(dir, 'host.yaml');
    await writeFile(scenarioPath, scenarioYaml());
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('serves the kernel port; survives its client; a pending wait-scheme unbind completes without it', async () => {
    const socket = join(dir, 'a.sock');
    const child = spawn(process.execPath, [mainPath, '--scenario', scenarioPath, '--socket', socket], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      assert.deepEqual(JSON.parse(line), { ready: true, socket, pid: child.pid });

      const first = await SimKernelAdapter.connect(socket);
      assert.equal((await first.findDevices({ bus: 'platform', driver: 'hs_misc' }))[0]?.nodes[0]?.rdev, '240:0');
      await assert.rejects(first.unload(['hs_misc']), (err: unknown) => {
        assert.ok(err instanceof KernelActionError);
        assert.equal(err.code, 'EBUSY');
        assert.match(err.message, /hs_misc is in use/);
        return true;
      });
      await first.unbind(MISC); // revoke: returns; the holder keeps a zombie
      // Wait scheme: blocks on the holder's open file. The agent will go away before it returns.
      const blocked = assert.rejects(
        first.unbind(VFIO),
        (err: unknown) => err instanceof SimHostError && err.code === 'ECONNRESET',
      );
      // Other requests are answered while the unbind is in flight on the same connection.
      await until('the unbind to start', async () =>
        (await first.snapshot()).devices.find((d) => d.id === VFIO.id && d.unbinding),
      );

      await first.close(); // the agent goes away mid-unbind
      await blocked;

      const second = await SimKernelAdapter.connect(socket);
      const [holder] = await second.census(['240:0', '243:12']);
      assert.equal(holder?.pid, 4242);
      assert.deepEqual(
        holder?.files.map((f) => [f.path, f.deleted]),
        [
          ['/dev/hsmisc0', true],
          ['/dev/vfio/12', false],
        ],
        'state preserved across clients: zombie still there, vfio file still open',
      );
      assert.equal((await second.device(VFIO))?.driver, 'hs_vfio', 'still blocked');
      await second.closeFile(4242, 4); // the last file of the vfio device
      await until('unbind-done in the host', async () =>
        (await second.actionLog()).find((e) => e.kind === 'unbind-done' && e.device === VFIO.id),
      );
      assert.equal((await second.device(VFIO))?.driver, null);
      const since = (await second.actionLog()).length;
      assert.deepEqual(await second.actionLog(since), []);
      await second.close();

      child.kill('SIGTERM');
      assert.equal(await exited(child), 0);
      assert.equal(existsSync(socket), false, 'socket file removed');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ensureSimHost starts a detached host once, reconnects to it, and replaces a stale socket file', async () => {
    const socketPath = join(dir, 'b.sock');
    await writeFile(socketPath, 'stale'); // left by a host that died
    const handle = await ensureSimHost({ scenarioPath, socketPath });
    const { pid } = handle;
    assert.equal(handle.started, true);
    assert.notEqual(pid, process.pid);
    try {
      const adapter = await SimKernelAdapter.connect(socketPath);
      assert.deepEqual(await adapter.hostInfo(), {
        host: 'rpc-host',
        pid,
        socket: socketPath,
        startedAt: (await adapter.hostInfo()).startedAt,
      });
      await adapter.unbind(MISC);
      await adapter.close();
      assert.deepEqual(
        await ensureSimHost({ scenarioPath, socketPath }),
        { socketPath, pid, started: false },
        'the same host',
      );
      const again = await SimKernelAdapter.connect(socketPath);
      assert.equal((await again.device(MISC))?.driver, null, 'with its state');
      assert.ok(existsSync(`${socketPath}.log`));
      await again.shutdownHost();
      await again.close();
      await until('the host to exit', async () => !alive(pid));
      assert.equal(existsSync(socketPath), false);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('ensureSimHost reports a host that cannot start, with its log', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'host: h\nmodules: [{ name: m }]\n');
    await assert.rejects(
      ensureSimHost({ scenarioPath: bad, socketPath: join(dir, 'c.sock') }),
      /exited with code 1[\s\S]*modules\[0\]\.file/,
    );
  });
});
