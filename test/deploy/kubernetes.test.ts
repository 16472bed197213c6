import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/load.js';
import { adminTokenOf, buildAdminApp } from '../../src/ops/admin.js';
import { createMetrics } from '../../src/ops/metrics.js';

const base = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field below
type Doc = Record<string, any>;

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(base, file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJSON() as Doc;
  });
}

const kustomization = load('kustomization.yaml')[0] as Doc;
const docs = (kustomization.resources as string[]).flatMap(load);
const byKind = (kind: string) => docs.find((d) => d.kind === kind) as Doc;
const deployment = byKind('Deployment');
const container = deployment.spec.template.spec.containers[0];
const env = Object.fromEntries(
  (container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
);
const portNamed = (name: string) =>
  (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === name)
    ?.containerPort;
const dockerfileEnv = (name: string) =>
  new RegExp(`${name}=(\\S+)`).exec(
    readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'),
  )?.[1];

describe('deploy/kubernetes', () => {
  it('lists only files that exist, all parseable', () => {
    for (const file of kustomization.resources as string[])
      expect(existsSync(join(base, file))).toBe(true);
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Service',
    ]);
  });

  it('listens where the app is told to, and the image agrees', () => {
    const parsed = parseEnv(env);
    expect(portNamed('http')).toBe(parsed.PORT);
    expect(portNamed('admin')).toBe(parsed.ADMIN_PORT);
    expect(String(parsed.PORT)).toBe(dockerfileEnv('PORT'));
    expect(String(parsed.ADMIN_PORT)).toBe(dockerfileEnv('ADMIN_PORT'));
    expect(parsed.HOST).toBe('0.0.0.0');
  });

  it('probes paths the admin listener answers, on the admin port', async () => {
    const admin = await buildAdminApp({
      metrics: createMetrics(),
      ready: () => true,
      token: adminTokenOf({}),
    });
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet.port).toBe('admin');
      expect((await admin.inject({ url: probe.httpGet.path })).statusCode).toBe(200);
    }
    expect(
      (
        await admin.inject({
          url: deployment.spec.template.metadata.annotations['prometheus.io/path'],
        })
      ).statusCode,
    ).toBe(200);
    expect(Number(deployment.spec.template.metadata.annotations['prometheus.io/port'])).toBe(
      portNamed('admin'),
    );
    await admin.close();
  });

  it('mounts the ConfigMap as a directory where the app reads its config, and the ConfigMap is valid', () => {
    const mount = container.volumeMounts.find((m: Doc) => m.name === 'config');
    expect(mount.mountPath).toBe(env.MDM_DISCOVERY_CONFIG);
    expect(mount.mountPath).toBe(dockerfileEnv('MDM_DISCOVERY_CONFIG'));
    expect(mount.subPath).toBeUndefined(); // a subPath mount would never see an update
    const volume = deployment.spec.template.spec.volumes.find((v: Doc) => v.name === 'config');
    const configMap = byKind('ConfigMap');
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    for (const [file, text] of Object.entries(configMap.data as Record<string, string>)) {
      expect(file.endsWith('.json')).toBe(true);
      expect(parseConfig([{ file, text }]).tenants.length).toBeGreaterThan(0);
    }
  });

  it('runs at least two replicas spread across zones, and drains before it is killed', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const keys = deployment.spec.template.spec.topologySpreadConstraints.map(
      (c: Doc) => c.topologyKey,
    );
    expect(keys).toContain('topology.kubernetes.io/zone');
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      Number(env.SHUTDOWN_GRACE_MS),
    );
    expect(byKind('HorizontalPodAutoscaler').spec.minReplicas).toBe(deployment.spec.replicas);
    expect(byKind('PodDisruptionBudget').spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('runs non-root with a read-only root, no capabilities, requests and limits', () => {
    expect(deployment.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('selects the pods everywhere with the same labels', () => {
    const labels = deployment.spec.template.metadata.labels;
    for (const selector of [
      deployment.spec.selector.matchLabels,
      byKind('Service').spec.selector,
      byKind('PodDisruptionBudget').spec.selector.matchLabels,
    ]) {
      expect(labels).toMatchObject(selector);
    }
    const service = byKind('Service');
    for (const port of service.spec.ports) expect(portNamed(port.targetPort)).toBeDefined();
    expect(byKind('HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe(
      deployment.metadata.name,
    );
  });

  it('routes exactly the discovery path in the Ingress example, with cert-manager', () => {
    const ingress = load('examples/ingress-cert-manager.yaml')[0] as Doc;
    const path = ingress.spec.rules[0].http.paths[0];
    expect(path).toMatchObject({
      path: '/.well-known/com.apple.remotemanagement',
      pathType: 'Exact',
    });
    expect(path.backend.service.name).toBe(byKind('Service').metadata.name);
    expect(byKind('Service').spec.ports.map((p: Doc) => p.name)).toContain(
      path.backend.service.port.name,
    );
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBeTruthy();
    expect(ingress.spec.tls[0].hosts).toEqual([ingress.spec.rules[0].host]);
  });
});

describe('deploy/kubernetes/components/watch', () => {
  const component = load('components/watch/kustomization.yaml')[0] as Doc;
  const parts = (component.resources as string[]).flatMap((file) =>
    load(`components/watch/${file}`),
  );
  const part = (kind: string) => parts.find((d) => d.kind === kind) as Doc;
  const watcher = part('Deployment');
  const watchContainer = watcher.spec.template.spec.containers[0];

  it('is a kustomize Component of files that exist', () => {
    expect(component.kind).toBe('Component');
    for (const file of component.resources as string[]) {
      expect(existsSync(join(base, 'components/watch', file))).toBe(true);
    }
    expect(parts.map((d) => d.kind).sort()).toEqual(['Deployment', 'PodMonitor', 'PrometheusRule']);
  });

  it('runs one watcher, from the same image, config and hardening as the servers', () => {
    expect(watcher.spec.replicas).toBe(1);
    expect(watchContainer.args).toEqual(['watch']);
    expect(watchContainer.image).toBe(container.image);
    expect(watchContainer.securityContext).toEqual(container.securityContext);
    expect(watcher.spec.template.spec.securityContext).toEqual(
      deployment.spec.template.spec.securityContext,
    );
    expect(watcher.spec.template.spec.volumes).toEqual(deployment.spec.template.spec.volumes);
    const watchEnv = Object.fromEntries(
      (watchContainer.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(watchEnv.MDM_DISCOVERY_CONFIG).toBe(env.MDM_DISCOVERY_CONFIG);
    expect(parseEnv(watchEnv).WATCH_INTERVAL).toBe(300_000);
    expect(watchContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(watchContainer.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
  });

  it('scrapes the admin port of every pod, and carries deploy/prometheus/alerts.yaml as it is', () => {
    const monitor = part('PodMonitor');
    expect(monitor.spec.podMetricsEndpoints).toEqual([
      { port: 'admin', path: '/metrics', interval: '30s' },
    ]);
    expect(portNamed('admin')).toBe(9090);
    const rules = parseAllDocuments(
      readFileSync(new URL('../../deploy/prometheus/alerts.yaml', import.meta.url), 'utf8'),
    )[0]?.toJSON();
    expect(part('PrometheusRule').spec).toEqual(rules);
  });
});
