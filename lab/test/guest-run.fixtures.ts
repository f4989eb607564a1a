import type { SwapReport } from '@hotswap/contracts';
import { parseGuestLine, type GuestLine } from '../src/guest-records.js';

/** Guest monotonic ms at which cycle N's swap starts. */
export const cycleStart = (cycle: number): number => 10_000 * cycle;

const REALTIME_OFFSET = 1_795_000_000_000;

const APPS = [
  { name: 'fast', pid: 101, holdMs: 0 },
  { name: 'slow', pid: 102, holdMs: 2000 },
];

function agentReport(cycle: number, agentDelta: (app: string) => number): SwapReport {
  const t0 = cycleStart(cycle) + REALTIME_OFFSET;
  return {
    swapId: `local-${cycle}`,
    hostId: 'lab',
    outcome: 'succeeded',
    modules: ['virtio_console'],
    fromVersion: null,
    toVersion: null,
    fromSrcversion: null,
    toSrcversion: null,
    devices: ['virtio0'],
    steps: [
      { phase: 'unbind', startedAt: t0 + 10, endedAt: t0 + 20, ok: true },
      { phase: 'zombie-wait', startedAt: t0 + 20, endedAt: t0 + 2020, ok: true },
      { phase: 'unload', startedAt: t0 + 2030, endedAt: t0 + 2100, ok: true },
    ],
    holdersBefore: APPS.map((app) => ({ pid: app.pid, comm: 'refapp', unit: null, fds: 1, mappings: 0 })),
    zombieFds: 2,
    recoveries: APPS.map((app) => ({
      pid: app.pid,
      comm: 'refapp',
      unit: null,
      status: 'recovered',
      seconds: (2200 + agentDelta(app.name)) / 1000,
      predictedErrno: 'ENODEV',
    })),
    blockedUnbind: null,
    error: null,
    startedAt: t0,
    endedAt: t0 + 2500,
  };
}

function shellFacts(cycle: number): object {
  const t0 = cycleStart(cycle);
  return {
    impl: 'shell',
    ok: true,
    module: 'virtio_console',
    devices: ['virtio0'],
    nodes: ['/dev/vport0p1', '/dev/vport0p2'],
    holders: [
      { pid: 101, fd: 3, link: '/dev/vport0p1' },
      { pid: 102, fd: 3, link: '/dev/vport0p2' },
    ],
    zombies: [{ pid: 102, fd: 3, link: '/dev/vport0p2 (deleted)' }],
    refcntAfterUnbind: 1,
    unloadRefused: true,
    unloadRefusedMessage: 'modprobe: FATAL: Module virtio_console is in use.',
    at: {
      start: t0,
      unbound: t0 + 20,
      refcntZero: t0 + 2030,
      unloaded: t0 + 2100,
      loaded: t0 + 2180,
      probed: t0 + 2190,
    },
    srcversion: '',
    version: '',
  };
}

/**
 * The ttyS1 lines of a run with `cycles` swaps of two refapps (fast: no hold, slow: 2 s hold,
 * both reopen 2200 ms after their error). `agentDelta` (ms) makes the agent's figure differ
 * from the application's; without it, the guest ran the shell swap.
 */
export function guestLines(cycles: number, agentDelta?: (app: string) => number): GuestLine[] {
  const lines: string[] = [
    '{"t":"init","at":5000,"release":"6.1.0-56-amd64","uptime":"5.00","scenario":"test"}',
    '{"t":"modules-loaded","startAt":5100,"endAt":5400,"tainted":0}',
    '{"t":"agent-smoke","exit":0,"startAt":5400,"endAt":8000}',
    ...APPS.map((app) =>
      JSON.stringify({
        t: 'app-start',
        name: app.name,
        pid: app.pid,
        node: `/dev/vport0p${app.pid - 100}`,
        op: 'write',
        holdMs: app.holdMs,
        openedAt: 8100,
        realtimeMs: 8100 + REALTIME_OFFSET,
        monotonicMs: 8100,
      }),
    ),
    '{"t":"apps-ready","at":8200}',
  ];
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const t0 = cycleStart(cycle);
    lines.push(JSON.stringify({ t: 'cycle-start', cycle, at: t0 }));
    for (const app of APPS) {
      const errorAt = t0 + 20.5;
      lines.push(
        JSON.stringify({
          t: 'cycle',
          name: app.name,
          pid: app.pid,
          cycle,
          errno: 'ENODEV',
          op: 'write',
          errorAt,
          closingAt: errorAt + app.holdMs,
          closedAt: errorAt + app.holdMs,
          reopenAt: errorAt + 2200,
          recoveryMs: 2200,
          openErrors: ['ENOENT', 'ENXIO'],
          openAttempts: 2000,
        }),
      );
    }
    const out = agentDelta ? agentReport(cycle, agentDelta) : shellFacts(cycle);
    lines.push(`@swap-out ${cycle} ${JSON.stringify(out)}`);
    lines.push(`@swap-err ${cycle} progress line`);
    lines.push(
      JSON.stringify({ t: 'swap', cycle, exit: 0, startAt: t0, endAt: t0 + 2500, settledAt: t0 + 2600, settled: true }),
    );
  }
  lines.push('{"t":"done","at":999999}');
  return lines.flatMap((line, index) => parseGuestLine(line, index) ?? []);
}
