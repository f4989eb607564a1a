import { z } from 'zod';
import { checkSchema } from './scenario-checks.schema.js';

/** QEMU options the runner owns: a scenario adds devices, it does not rewire the machine. */
export const RUNNER_OWNED_QEMU_OPTIONS = [
  '-accel',
  '-enable-kvm',
  '-machine',
  '-M',
  '-m',
  '-smp',
  '-cpu',
  '-kernel',
  '-initrd',
  '-append',
  '-serial',
  '-monitor',
  '-nographic',
  '-display',
  '-nic',
  '-net',
  '-netdev',
  '-no-reboot',
];

const qemuSchema = z.strictObject({
  memoryMiB: z.number().int().min(256).max(8192).default(1024),
  smp: z.number().int().min(1).max(8).default(1),
  /** Devices and their backends, one argv word per item: ['-device', 'virtio-serial-pci,id=vser0']. */
  args: z
    .array(z.string().min(1))
    .default([])
    .superRefine((args, ctx) => {
      args.forEach((arg, index) => {
        if (RUNNER_OWNED_QEMU_OPTIONS.includes(arg)) {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `${arg} is set by the lab runner, not by a scenario`,
          });
        }
      });
    }),
  /** Extra kernel command-line words. */
  kernelArgs: z.array(z.string().regex(/^\S+$/)).default([]),
});

const applicationSchema = z.strictObject({
  /** Names files and shell variables in the guest. */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, { error: 'use lowercase letters, digits and _' }),
  /** A shell command line run in the guest (`sh -c`); it should print the refapp's JSON lines. */
  command: z.string().min(1),
  /**
   * How the application comes back after a swap, which is what the guest waits for before the
   * next cycle: `reopen` (the same process reports an error -> reopen cycle) or `restart` (its
   * supervisor starts a new instance, which reports app-start on the new node).
   */
  recovers: z.enum(['reopen', 'restart']).default('reopen'),
});

/** Variables for the runbook, `${NAME}` in its strings. */
const variablesSchema = z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string());

const swapSchema = z.strictObject({
  /** Swap cycles in one boot. */
  cycles: z.number().int().min(1).max(500),
  /**
   * The guest's swap command (a shell command line), run once per cycle. It prints its result
   * on stdout: the agent's one-host JSON report, or the shell swap's facts.
   */
  command: z.string().min(1),
  /** Per cycle: how long to wait, after the command returns, for every application to reopen. */
  settleSeconds: z.number().positive().max(600).default(20),
  /** Pause between cycles, once every application holds the device again. */
  pauseMs: z.number().int().min(0).max(60_000).default(200),
  /**
   * Per-cycle runbook variables: cycle N uses entry (N-1) % length, so `[{V: '2.0'}, {V: '1.0'}]`
   * makes every cycle a real version change.
   */
  alternate: z.array(variablesSchema).min(1).default([{}]),
  /** What every cycle's swap command must do: exit 0, or fail (the guest then goes on anyway). */
  expect: z.enum(['succeed', 'fail']).default('succeed'),
});

/**
 * Out-of-tree modules built on the host for the lab's kernel. The build is cached by the
 * hash of its command and of every file under `sources`: it reruns only when those change.
 */
const buildSchema = z.strictObject({
  /**
   * Run on the host from the repository's root with `sh -c`; `${KERNEL_RELEASE}` is the guest's
   * kernel and `${BUILD_OUT}` the (cached) folder the command must put its files in.
   */
  command: z.string().min(1),
  /** Repository-relative files or folders whose contents make the cache key. */
  sources: z.array(z.string().min(1)).min(1),
  /**
   * Guest path -> file in `${BUILD_OUT}`. Files under /lib/modules/${KERNEL_RELEASE}/ join the
   * image's modules.dep, so `modules:` and modprobe find them.
   */
  files: z.record(z.string().regex(/^\/\S+$/, { error: 'an absolute guest path' }), z.string().regex(/^[^/]\S*$/)),
  /** Becomes /etc/modprobe.d/lab.conf in the guest (options for modprobe; insmod reads none). */
  modprobeConf: z.string().optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  description: z.string().default(''),
  /** Hard limit on the QEMU process, boot to poweroff (`timeout -k 5`). */
  timeoutSeconds: z.number().int().min(10).max(7200),
  qemu: qemuSchema.prefault({}),
  /** Modules to load at boot, in order; the image gets them and their dependencies. */
  modules: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).min(1),
  build: buildSchema.optional(),
  applications: z.array(applicationSchema).min(1),
  swap: swapSchema,
  /**
   * An inline runbook (hotswap/v1); `${KERNEL_RELEASE}` in its strings is the guest's `uname -r`,
   * and each `swap.alternate` variable its value for the cycle.
   */
  runbook: z.record(z.string(), z.unknown()),
  checks: z.array(checkSchema).default([]),
});
export type Scenario = z.output<typeof scenarioSchema>;
