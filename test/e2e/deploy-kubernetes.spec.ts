import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '@hotswap/tools';
import { parseAllDocuments } from 'yaml';

/**
 * deploy/kubernetes/: every manifest parses, the kustomization lists them, and the properties
 * the agent and the controller depend on hold: the agent privileged in the host's PID namespace
 * with the host paths it needs and its journal on the node; the controller unprivileged behind
 * a Service that a ServiceMonitor scrapes; Redis credentials from a Secret, never inline.
 */
const DIR = join(REPO_ROOT, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
}
interface PodSpec {
  hostPID?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
}
interface Workload extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

function load(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Manifest;
  });
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const manifests = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((file) => load(file).map((m) => ({ file, m })));
const one = <T extends Manifest>(kind: string, name: string): T => {
  const found = manifests.filter(({ m }) => m.kind === kind && m.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name}`);
  return found[0]!.m as T;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const env = (container: Container, name: string): EnvVar | undefined => container.env?.find((e) => e.name === name);

describe('deploy/kubernetes: manifests', () => {
  it('every document parses into an object with apiVersion, kind and a name', () => {
    assert.ok(manifests.length >= 7);
    for (const { file, m } of manifests) {
      assert.ok(m.apiVersion && m.kind && m.metadata?.name, `${file}: ${JSON.stringify(m).slice(0, 80)}`);
    }
  });

  it('the kustomization lists every manifest but the example Secret, in the hotswap namespace', () => {
    const [kustomization] = load('kustomization.yaml') as unknown as [{ namespace: string; resources: string[] }];
    assert.equal(kustomization.namespace, 'hotswap');
    for (const resource of kustomization.resources) assert.ok(existsSync(join(DIR, resource)), resource);
    const expected = files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    assert.deepEqual([...kustomization.resources].sort(), expected.sort());
    assert.equal(one('Namespace', 'hotswap').kind, 'Namespace');
  });

  it('the agent is a privileged DaemonSet in the host PID namespace with the host paths it needs', () => {
    const ds = one<Workload>('DaemonSet', 'hotswap-agent');
    assert.equal(ds.apiVersion, 'apps/v1');
    assert.ok(matches(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels), 'selector matches the pods');
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostPID, true);
    assert.equal(pod.containers.length, 1);
    const agent = pod.containers[0]!;
    assert.equal(agent.securityContext?.['privileged'], true);
    assert.deepEqual(agent.command?.slice(-1), ['apps/agent/dist/src/main.js']);
    assert.ok(existsSync(join(REPO_ROOT, 'apps/agent/src/main.ts')));

    const hostPaths = new Map((pod.volumes ?? []).map((v) => [v.name, v.hostPath?.path]));
    const mounted = new Map((agent.volumeMounts ?? []).map((m) => [hostPaths.get(m.name), m]));
    for (const path of ['/sys', '/proc', '/dev', '/lib/modules', '/var/lib/hotswap']) {
      assert.ok(mounted.has(path), `host path ${path} is mounted`);
    }
    assert.equal(mounted.get('/sys')?.mountPath, '/sys');
    assert.equal(mounted.get('/dev')?.mountPath, '/dev', 'new device nodes appear in the container');
    assert.equal(mounted.get('/lib/modules')?.mountPath, '/lib/modules', 'where modprobe looks');
    assert.notEqual(mounted.get('/proc')?.mountPath, '/proc', 'a runtime refuses a mount over /proc');
  });

  it("the agent's journal is on the node, where a restarted pod finds it", () => {
    const ds = one<Workload>('DaemonSet', 'hotswap-agent');
    const pod = ds.spec.template.spec;
    const agent = pod.containers[0]!;
    const state = pod.volumes?.find((v) => v.hostPath?.path === '/var/lib/hotswap');
    assert.ok(state?.hostPath, 'a hostPath volume, not an emptyDir');
    assert.equal(state.hostPath.type, 'DirectoryOrCreate');
    const mount = agent.volumeMounts?.find((m) => m.name === state.name);
    assert.equal(env(agent, 'STATE_DIR')?.value, mount?.mountPath);
    assert.notEqual(mount?.readOnly, true);
    assert.equal(env(agent, 'HOST_ID')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName', 'a stable host id');
  });

  it('the agent serves /metrics on a named port that the PodMonitor scrapes as job hotswap-agent', () => {
    const ds = one<Workload>('DaemonSet', 'hotswap-agent');
    const agent = ds.spec.template.spec.containers[0]!;
    const port = agent.ports?.find((p) => p.name === 'metrics');
    assert.ok(port);
    assert.equal(env(agent, 'PORT')?.value, String(port.containerPort));
    assert.equal(env(agent, 'BIND')?.value, '0.0.0.0', 'reachable from Prometheus');
    const monitor = one<Manifest & { spec: Record<string, unknown> }>('PodMonitor', 'hotswap-agent');
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    const spec = monitor.spec as {
      jobLabel: string;
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; path: string }[];
    };
    assert.ok(matches(spec.selector.matchLabels, ds.spec.template.metadata.labels));
    assert.deepEqual(
      spec.podMetricsEndpoints.map((e) => [e.port, e.path]),
      [['metrics', '/metrics']],
    );
    assert.equal(ds.spec.template.metadata.labels[spec.jobLabel], 'hotswap-agent', 'the AgentDown alert selects it');
    const configMap = agent.envFrom?.[0]?.configMapRef?.name;
    assert.equal(one('ConfigMap', configMap ?? '').kind, 'ConfigMap');
  });

  it('the controller is an unprivileged Deployment behind a Service, scraped by a ServiceMonitor', () => {
    const deployment = one<Workload>('Deployment', 'hotswap-controller');
    const pod = deployment.spec.template.spec;
    const labels = deployment.spec.template.metadata.labels;
    assert.ok(matches(deployment.spec.selector.matchLabels, labels));
    assert.ok((deployment.spec.replicas ?? 1) >= 1);
    assert.notEqual(pod.hostPID, true);
    assert.equal(pod.securityContext?.['runAsNonRoot'], true);
    assert.ok(!pod.volumes?.some((v) => v.hostPath), 'no host path');
    const controller = pod.containers[0]!;
    assert.deepEqual(controller.command?.slice(-1), ['apps/controller/dist/src/main.js']);
    assert.ok(existsSync(join(REPO_ROOT, 'apps/controller/src/main.ts')));
    assert.notEqual(controller.securityContext?.['privileged'], true);
    assert.equal(controller.securityContext?.['allowPrivilegeEscalation'], false);
    assert.equal(controller.securityContext?.['readOnlyRootFilesystem'], true);
    assert.deepEqual(controller.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(env(controller, 'HOST')?.value, '0.0.0.0');
    const http = controller.ports?.find((p) => p.name === 'http');
    assert.equal(env(controller, 'PORT')?.value, String(http?.containerPort));
    assert.equal(controller.readinessProbe?.httpGet?.path, '/healthz');

    const service = one<Manifest & { spec: { selector: Record<string, string>; ports: { name: string }[] } }>(
      'Service',
      'hotswap-controller',
    );
    assert.ok(matches(service.spec.selector, labels), 'the Service selects the controller pods');
    assert.ok(service.spec.ports.some((p) => p.name === 'http'));

    const monitor = one<
      Manifest & {
        spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
      }
    >('ServiceMonitor', 'hotswap-controller');
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.ok(matches(monitor.spec.selector.matchLabels, service.metadata.labels), 'it selects the Service');
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.path]),
      [['http', '/metrics']],
    );
    // Without a jobLabel, the job is the Service's name: the ControllerDown alert selects it.
    assert.equal(service.metadata.name, 'hotswap-controller');
  });

  it('Redis credentials come from a Secret, in the agent and in the controller, never inline', () => {
    const secret = load('secret.example.yaml')[0] as Manifest & { stringData: Record<string, string> };
    assert.equal(secret.kind, 'Secret');
    for (const [kind, name] of [
      ['DaemonSet', 'hotswap-agent'],
      ['Deployment', 'hotswap-controller'],
    ] as const) {
      const container = one<Workload>(kind, name).spec.template.spec.containers[0]!;
      const redis = env(container, 'REDIS_URL');
      assert.equal(redis?.value, undefined, `${name}: REDIS_URL is not inline`);
      assert.equal(redis?.valueFrom?.secretKeyRef?.name, secret.metadata.name, name);
      assert.ok(redis.valueFrom.secretKeyRef.key in secret.stringData, `${name}: the Secret has that key`);
    }
    // The controller refuses to start without API tokens: they come from a Secret too.
    const controllerPod = one<Workload>('Deployment', 'hotswap-controller').spec.template.spec;
    const tokensFile = env(controllerPod.containers[0]!, 'HOTSWAP_TOKENS_FILE')?.value ?? '';
    const tokens = load('secret.example.yaml').find((m) => m.metadata.name === 'hotswap-tokens') as
      (Manifest & { stringData: Record<string, string> }) | undefined;
    assert.ok(tokens, 'an example Secret for the API tokens');
    const volume = controllerPod.volumes?.find((v) => JSON.stringify(v).includes('"secretName":"hotswap-tokens"'));
    const mount = controllerPod.containers[0]!.volumeMounts?.find((m) => m.name === volume?.name);
    assert.ok(mount && tokensFile.startsWith(`${mount.mountPath}/`), 'the tokens file is in the mounted Secret');
    assert.ok(tokensFile.split('/').pop()! in tokens.stringData, 'the Secret has the tokens file');
    for (const { file, m } of manifests.filter(({ file }) => file !== 'secret.example.yaml')) {
      assert.notEqual(m.kind, 'Secret', file);
      assert.doesNotMatch(JSON.stringify(m), /redis:\/\/[^"]*@/, `${file}: no credentials`);
    }
  });
});
