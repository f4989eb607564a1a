import { RunbookValidationError, validateCensusRequest, type CensusRequest } from '@hotswap/runbook';
import { ControllerError } from '../errors/controller.errors.js';

/** What GET /v1/hosts/:id/holders asks for: a stored runbook's devices and stack, or named ones. */
export type CensusQuery = { readonly runbook: string } | { readonly request: CensusRequest };

const DEVICE_PARAMS = ['bus', 'driver', 'vendor', 'device', 'modules'] as const;
const KNOWN = new Set<string>(['runbook', ...DEVICE_PARAMS]);

const invalid = (message: string, details: Record<string, unknown> = {}): ControllerError =>
  new ControllerError('INVALID_QUERY', 400, message, details);

/**
 * Reads the query: `?runbook=<stored name>`, or `?bus=&driver=` with optional `vendor`, `device`
 * and `modules` (comma-separated, top of the stack first; default: the module named like the
 * driver, '-' read as '_', as most drivers are). Names are checked by the runbook's own rules
 * (they reach sysfs and modprobe on the host), and every problem is named in the 400.
 */
export function parseCensusQuery(query: Readonly<Record<string, unknown>>): CensusQuery {
  const unknown = Object.keys(query).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    throw invalid(
      `unknown query parameter(s) ${unknown.join(', ')}: use runbook, or bus, driver, vendor, device, modules`,
    );
  }
  const value = (key: string): string | undefined => {
    const raw = query[key];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw invalid(`${key} must be given once, as a plain value`);
    return raw;
  };
  const runbook = value('runbook');
  const named = DEVICE_PARAMS.filter((key) => value(key) !== undefined);
  if (runbook !== undefined) {
    if (named.length > 0) throw invalid(`give either runbook or ${named.join(', ')}, not both`);
    if (runbook === '') throw invalid('runbook must name a stored runbook (see GET /v1/runbooks)');
    return { runbook };
  }
  const bus = value('bus');
  const driver = value('driver');
  if (bus === undefined || driver === undefined) {
    throw invalid(
      'name the devices with bus and driver (e.g. ?bus=pci&driver=mlx5_core), or give runbook=<stored name>',
    );
  }
  const vendor = value('vendor');
  const device = value('device');
  const modules = value('modules')?.split(',') ?? [driver.replaceAll('-', '_')];
  try {
    return {
      request: validateCensusRequest({
        devices: {
          bus,
          driver,
          ...(vendor === undefined ? {} : { vendor }),
          ...(device === undefined ? {} : { device }),
        },
        modules: modules.map((name) => ({ name })),
      }),
    };
  } catch (error) {
    if (!(error instanceof RunbookValidationError)) throw error;
    const issues = error.issues.map((issue) => ({ parameter: parameterOf(issue.path), message: issue.message }));
    throw invalid(issues.map((issue) => `${issue.parameter}: ${issue.message}`).join('; '), { issues });
  }
}

/** `devices.bus` → `bus`, `modules[1].name` → `modules`: the query parameter the problem is in. */
function parameterOf(path: string): string {
  return /^devices\.(\w+)/.exec(path)?.[1] ?? (path.startsWith('modules') ? 'modules' : path);
}
