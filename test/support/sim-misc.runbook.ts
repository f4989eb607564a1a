/**
 * The runbook the single-host end-to-end tests roll out: hs_misc 1.0 -> 2.0 on the simulated
 * misc device (libs/kernel/scenarios/misc-driver-owned.yaml and its variants), with short
 * deadlines and a fast poll.
 */
export function simMiscRunbook(name: string, hostIds: readonly string[], zombieCloseSeconds = 20): object {
  return {
    apiVersion: 'hotswap/v1',
    kind: 'Runbook',
    metadata: { name },
    spec: {
      modules: [{ name: 'hs_misc', target: { version: '2.0' } }],
      devices: { bus: 'platform', driver: 'hs_misc' },
      deadlines: { unbindSeconds: 2, zombieCloseSeconds, actionSeconds: 5, recoveryWatchSeconds: 10 },
      recovery: { pollMilliseconds: 50 },
      hosts: { names: [...hostIds] },
    },
  };
}
