import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEARTBEAT_TTL_MS } from '@hotswap/contracts';
import { decodeHeartbeat } from '../src/hosts/host-heartbeat.decoder.js';

describe('decodeHeartbeat', () => {
  const now = 1_000_000;

  it('decodes the hash an agent writes', () => {
    const host = decodeHeartbeat(
      'gpu-1',
      {
        hostId: 'gpu-1',
        agentVersion: '0.1.0',
        kernel: '6.8.0-45-generic',
        labels: '{"rack":"r1","zone":"z2"}',
        lastSeen: String(now - 1500),
        busy: '1',
        metricsUrl: 'http://10.0.0.5:9464/metrics',
        modules: '[{"name":"mlx5_core","loaded":true,"version":"24.10","srcversion":"5A1C0E6F3B2D49A87E10C42"}]',
      },
      now - 1500,
      now,
    );
    assert.deepEqual(host, {
      hostId: 'gpu-1',
      lastSeen: now - 1500,
      ageSeconds: 1.5,
      available: true,
      kernel: '6.8.0-45-generic',
      agentVersion: '0.1.0',
      labels: { rack: 'r1', zone: 'z2' },
      busy: true,
      metricsUrl: 'http://10.0.0.5:9464/metrics',
      modules: [{ name: 'mlx5_core', loaded: true, version: '24.10', srcversion: '5A1C0E6F3B2D49A87E10C42' }],
    });
  });

  it('keeps the well-formed module entries of an odd or foreign modules field', () => {
    const decode = (modules: string) => decodeHeartbeat('gpu-4', { modules }, now, now).modules;
    assert.deepEqual(decode('not json'), []);
    assert.deepEqual(decode('{"name":"x"}'), []);
    assert.deepEqual(
      decode(
        '[{"name":"a","loaded":"yes","version":2,"srcversion":""},{"loaded":true},null,{"name":"b","loaded":true}]',
      ),
      [
        { name: 'a', loaded: false, version: null, srcversion: null },
        { name: 'b', loaded: true, version: null, srcversion: null },
      ],
    );
  });

  it('tolerates a missing or malformed hash and falls back to the sorted-set score', () => {
    const host = decodeHeartbeat(
      'gpu-2',
      { labels: '[1,2]', lastSeen: 'soon', busy: 'yes', metricsUrl: '' },
      now - HEARTBEAT_TTL_MS,
      now,
    );
    assert.equal(host.lastSeen, now - HEARTBEAT_TTL_MS);
    assert.equal(host.available, false, 'a heartbeat exactly TTL old is stale');
    assert.deepEqual(host.labels, {});
    assert.equal(host.busy, false);
    assert.equal(host.metricsUrl, null);
    assert.equal(host.kernel, null);
    assert.deepEqual(decodeHeartbeat('gpu-3', { labels: '{"a":"b","n":1}' }, null, now).labels, { a: 'b' });
    assert.equal(decodeHeartbeat('gpu-3', {}, null, now).available, false);
  });
});
