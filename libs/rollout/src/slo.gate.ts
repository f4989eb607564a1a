import type { RecoverySlo } from '@hotswap/runbook';
import { nearestRankPercentile } from './nearest-rank.percentile.js';
import type { RecoverySample, SloGateResult } from './rollout.types.js';

const seconds = (value: number): string => `${Number(value.toFixed(3))} s`;

/**
 * The SLO gate over one wave's recovery observations. The percentile is taken over the
 * applications that came back (recovered or restarted); those that did not (not-recovered,
 * exited) have no recovery time and are counted against `maxNotRecovered` instead, so that
 * allowing one stuck application does not also blow the percentile. No observations at all (no
 * application held the device) passes, marked "no data" so nobody mistakes it for a measurement.
 */
export function evaluateSloGate(samples: readonly RecoverySample[], slo: RecoverySlo): SloGateResult {
  if (samples.length === 0) {
    return {
      verdict: 'no-data',
      detail: 'no recovery observations: no application held the device',
      percentileSeconds: null,
      observations: 0,
      notRecovered: 0,
    };
  }
  const recovered = samples.flatMap((sample) =>
    (sample.status === 'recovered' || sample.status === 'restarted') && sample.seconds !== null ? [sample.seconds] : [],
  );
  const notRecovered = samples.length - recovered.length;
  const percentileSeconds = nearestRankPercentile(recovered, slo.percentile);
  const label = `p${slo.percentile}`;
  const breaches: string[] = [];
  if (percentileSeconds !== null && percentileSeconds > slo.recoverySeconds) {
    breaches.push(`${label} recovery ${seconds(percentileSeconds)} > ${seconds(slo.recoverySeconds)}`);
  }
  if (notRecovered > slo.maxNotRecovered) {
    breaches.push(`${notRecovered} application(s) did not recover (at most ${slo.maxNotRecovered} allowed)`);
  }
  const measured =
    percentileSeconds === null
      ? 'no application recovered'
      : `${label} recovery ${seconds(percentileSeconds)} (SLO ${seconds(slo.recoverySeconds)})`;
  const detail =
    breaches.length > 0
      ? `SLO breached: ${breaches.join('; ')}; over ${samples.length} observation(s)`
      : `${measured}, ${notRecovered} not recovered (at most ${slo.maxNotRecovered}), over ${samples.length} observation(s)`;
  return {
    verdict: breaches.length > 0 ? 'fail' : 'pass',
    detail,
    percentileSeconds,
    observations: samples.length,
    notRecovered,
  };
}
