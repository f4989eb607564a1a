import type { RecoveryObservation, SwapOutcome } from '@hotswap/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { withinDeadline } from '../census/within-deadline.js';

/** The refcount of each module the agent reports on (ModuleWatchList.all); null: not loaded. */
export type ModuleRefcountSource = () => Promise<readonly { host: string; module: string; refcnt: number | null }[]>;

/** Prometheus scrapes time out after 10 s by default: a kernel read gets a fraction of that. */
const SCRAPE_READ_TIMEOUT_MS = 1000;

/**
 * Every metric the agent exports, in one place. Naming: https://prometheus.io/docs/practices/naming/
 * Prefix `hotswap_agent_`, base units, `_total` counters; labels are bounded (host, module,
 * phase, outcome), never a PID or a path. The controller's figures are `hotswap_controller_*`,
 * so summing across both never counts a swap twice. deploy/prometheus/ holds the rules that
 * read these, docs/alerts.md what each alert means.
 */
export class AgentMetrics {
  readonly registry = new Registry();

  readonly recoverySeconds = new Histogram({
    name: 'hotswap_agent_app_recovery_seconds',
    help: 'Time from the unbind (revoke) or the close (wait) to an application holding the new device node',
    labelNames: ['host', 'module', 'status'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });

  readonly notRecovered = new Counter({
    name: 'hotswap_agent_app_not_recovered_total',
    help: 'Applications that held the device and had not reopened it when the recovery watch ended',
    labelNames: ['host', 'module', 'status'] as const,
    registers: [this.registry],
  });

  readonly appRestarted = new Counter({
    name: 'hotswap_agent_app_restarted_total',
    help: 'Applications whose service came back under a new PID holding the new device node',
    labelNames: ['host', 'module'] as const,
    registers: [this.registry],
  });

  readonly zombieFds = new Gauge({
    name: 'hotswap_agent_zombie_fds',
    help: 'Open file descriptors on nodes of unbound devices, at the last census',
    labelNames: ['host', 'module'] as const,
    registers: [this.registry],
  });

  readonly zombieFdsOldest = new Gauge({
    name: 'hotswap_agent_zombie_fds_oldest_timestamp_seconds',
    help: 'Unix time the oldest zombie FD the agent knows to be open became one (its unbind returned); 0 when none',
    labelNames: ['host', 'module'] as const,
    registers: [this.registry],
  });

  readonly deviceWithoutDriver = new Gauge({
    name: 'hotswap_agent_device_without_driver',
    help: '1 from the unbind of the swapped device until a driver is bound to it again',
    labelNames: ['host', 'module'] as const,
    registers: [this.registry],
  });

  readonly phaseSeconds = new Histogram({
    name: 'hotswap_agent_swap_phase_duration_seconds',
    help: 'Duration of each phase of a swap',
    labelNames: ['host', 'phase', 'result'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly swaps = new Counter({
    name: 'hotswap_agent_swaps_total',
    help: 'Swaps run by this agent, by outcome',
    labelNames: ['host', 'module', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly kernelActionStuck = new Gauge({
    name: 'hotswap_agent_kernel_action_stuck',
    help: '1 while a kernel action (unbind, unload, load, bind) is past its deadline and has not returned',
    labelNames: ['host'] as const,
    registers: [this.registry],
  });

  /** The unbind case of `kernelActionStuck`, kept under its first name for existing dashboards. */
  readonly unbindBlocked = new Gauge({
    name: 'hotswap_agent_unbind_blocked',
    help: '1 while an unbind is past its deadline and still blocked in the kernel',
    labelNames: ['host'] as const,
    registers: [this.registry],
  });

  /**
   * Read from the kernel port at scrape time, not at each census: the value is then what the
   * kernel says when Prometheus looks (a census runs only during a swap, and the refcount matters
   * most after one, when zombie FDs may still pin the module), and nothing runs when nobody
   * scrapes. A read that does not answer within a second keeps the last values.
   */
  readonly moduleRefcount = new Gauge({
    name: 'hotswap_agent_module_refcount',
    help: 'Reference count (/sys/module/NAME/refcnt) of each module of the runbooks this agent swapped or is swapping, read at scrape time; absent while the module is not loaded',
    labelNames: ['host', 'module'] as const,
    registers: [this.registry],
    collect: () => this.collectRefcounts(),
  });

  readonly buildInfo = new Gauge({
    name: 'hotswap_agent_build_info',
    help: 'Build metadata of the running agent',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });

  private readonly initialized = new Set<string>();

  constructor(
    version: string,
    private readonly refcounts: ModuleRefcountSource | null = null,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    // prom-client's *_total gauges break the naming rules (promtool check metrics says so);
    // the same figures remain per type in hotswap_agent_nodejs_active_{handles,requests,resources}.
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(PREFIX + name);
    this.buildInfo.set({ version }, 1);
  }

  /**
   * Creates a swap's series at 0 the first time a module is swapped on a host, so that the
   * first recovery or outcome is an increase Prometheus can see (a series that appears already
   * at 1 is invisible to rate() and increase()). Values already there are left alone.
   */
  initSwapSeries(host: string, module: string): void {
    if (!this.initialized.has(host)) {
      this.initialized.add(host);
      this.kernelActionStuck.set({ host }, 0);
      this.unbindBlocked.set({ host }, 0);
    }
    const key = JSON.stringify([host, module]);
    if (this.initialized.has(key)) return;
    this.initialized.add(key);
    for (const status of RECOVERED) this.recoverySeconds.zero({ host, module, status });
    for (const status of NOT_RECOVERED) this.notRecovered.inc({ host, module, status }, 0);
    for (const outcome of Object.keys(OUTCOMES)) this.swaps.inc({ host, module, outcome }, 0);
    this.appRestarted.inc({ host, module }, 0);
    this.zombieFds.set({ host, module }, 0);
    this.zombieFdsOldest.set({ host, module }, 0);
    this.deviceWithoutDriver.set({ host, module }, 0);
  }

  private async collectRefcounts(): Promise<void> {
    const read = this.refcounts;
    if (!read) return;
    let modules;
    try {
      modules = await withinDeadline('module refcounts', SCRAPE_READ_TIMEOUT_MS, read);
    } catch {
      return;
    }
    this.moduleRefcount.reset();
    for (const { host, module, refcnt } of modules) {
      if (refcnt !== null) this.moduleRefcount.set({ host, module }, refcnt);
    }
  }
}

const PREFIX = 'hotswap_agent_';
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

type RecoveryStatus = RecoveryObservation['status'];
/** Statuses with a recovery time (histogram) and without one (counter). */
const RECOVERED: readonly RecoveryStatus[] = ['recovered', 'restarted'];
const NOT_RECOVERED: readonly RecoveryStatus[] = ['not-recovered', 'exited'];
/** Every outcome, checked against the contract's union by the type. */
const OUTCOMES: Readonly<Record<SwapOutcome, true>> = {
  succeeded: true,
  'failed-restored': true,
  failed: true,
  refused: true,
  skipped: true,
  expired: true,
};
