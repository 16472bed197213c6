import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const dockerfile = read('Dockerfile');
const imageEnv = (name: string) => new RegExp(`${name}=(\\S+)`).exec(dockerfile)?.[1];
/** The image's HEALTHCHECK command, as a Compose `healthcheck.test`. */
const imageHealthcheck = [
  'CMD',
  ...JSON.parse(/HEALTHCHECK[^\n]*\\\n\s+CMD (\[.*\])/.exec(dockerfile)?.[1] ?? 'null'),
];

describe('compose.yaml', () => {
  const service = (
    parse(read('compose.yaml')) as { services: Record<string, Record<string, unknown>> }
  ).services['mdm-discovery'] as {
    read_only: boolean;
    ports: string[];
    volumes: string[];
    healthcheck: { test: string[] };
    cap_drop: string[];
  };

  it('mounts the config where the image reads it, read-only, with a read-only root', () => {
    expect(service.volumes.map((v) => v.split(':')[1])).toContain(imageEnv('MDM_DISCOVERY_CONFIG'));
    expect(service.read_only).toBe(true);
    expect(service.cap_drop).toEqual(['ALL']);
  });

  it('publishes the ports the image listens on, and checks health like the image', () => {
    expect(service.ports.map((p) => p.split(':').pop())).toEqual([
      imageEnv('PORT'),
      imageEnv('ADMIN_PORT'),
    ]);
    expect(service.healthcheck.test).toEqual(imageHealthcheck);
  });
});

describe('deploy/compose/scale-out.yaml', () => {
  const file = parse(read('deploy/compose/scale-out.yaml')) as {
    services: Record<string, Record<string, unknown>>;
  };
  const replica = file.services['mdm-discovery'] as {
    volumes: string[];
    healthcheck: { test: string[] };
    read_only: boolean;
    cap_drop: string[];
    ports?: unknown;
  };
  const nginx = read('deploy/compose/nginx.conf');

  it('runs the replicas like compose.yaml, with no published port, behind the proxy', () => {
    expect(replica.volumes.map((v) => v.split(':')[1])).toContain(imageEnv('MDM_DISCOVERY_CONFIG'));
    expect([replica.read_only, replica.cap_drop, replica.ports]).toEqual([
      true,
      ['ALL'],
      undefined,
    ]);
    expect(replica.healthcheck.test).toEqual(imageHealthcheck);
    const proxy = file.services.proxy as { volumes: string[] };
    expect(proxy.volumes).toContain('./nginx.conf:/etc/nginx/conf.d/default.conf:ro');
  });

  it("proxies the well-known path to the replicas' port, and retries a refusing one", () => {
    expect(nginx).toContain('location = /.well-known/com.apple.remotemanagement {');
    expect(nginx).toContain(`proxy_pass http://$replicas:${imageEnv('PORT')};`);
    expect(nginx).toContain('set $replicas mdm-discovery;');
    expect(nginx).toMatch(/proxy_next_upstream error timeout/);
  });
});

const unit = read('deploy/systemd/mdm-discovery.service');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/systemd/mdm-discovery.service', () => {
  it('is hardened and reloads with SIGHUP', () => {
    for (const line of [
      'DynamicUser=yes',
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'KillSignal=SIGTERM',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  it.skipIf(!hasAnalyze)(
    'passes systemd-analyze verify, which does complain about a broken copy',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'mdm-systemd-'));
      try {
        // verify wants ExecStart's binary to exist: point it at node for the check.
        const checked = unit.replace(
          'ExecStart=/usr/bin/mdm-discovery',
          `ExecStart=${process.execPath} /opt/mdm-discovery/dist/cli/index.js`,
        );
        const verify = (text: string) => {
          const file = join(dir, 'mdm-discovery.service');
          writeFileSync(file, text);
          const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
          return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
        };
        expect(verify(checked)).toEqual({ status: 0, output: '' });
        expect(
          verify(checked.replace('ProtectSystem=strict', 'ProtectSystem=sometimes')).output,
        ).toMatch(/Failed to parse protect system value/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('mdm-discovery sync, unattended', () => {
  const configDir = /MDM_DISCOVERY_CONFIG=(\S+)/.exec(unit)?.[1];

  it('the systemd service writes the directory the service reads, and takes exit 3 as success', () => {
    const service = read('deploy/systemd/mdm-discovery-sync.service').split('\n');
    const exec = service.find((l) => l.startsWith('ExecStart=')) ?? '';
    expect(exec).toMatch(/^ExecStart=\/usr\/bin\/mdm-discovery sync --from csv \S+ --out (\S+)$/);
    expect(exec.endsWith(`--out ${configDir}`)).toBe(true);
    expect(service).toContain('Type=oneshot');
    expect(service).toContain('SuccessExitStatus=3');
    expect(service).toContain(`ReadWritePaths=${configDir}`);
    const timer = read('deploy/systemd/mdm-discovery-sync.timer').split('\n');
    expect(timer).toContain('OnCalendar=hourly');
    expect(timer).toContain('WantedBy=timers.target');
  });

  it("the CronJob mounts the image's config directory and counts 0 and 3 as success, 1 as failure", () => {
    const job = parse(read('deploy/kubernetes/examples/sync-cronjob.yaml')) as {
      spec: {
        jobTemplate: { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      };
    };
    const container = job.spec.jobTemplate.spec.template.spec.containers[0] as {
      args: string[];
      volumeMounts: { name: string; mountPath: string }[];
    };
    expect(container.volumeMounts.find((m) => m.name === 'config')?.mountPath).toBe(
      imageEnv('MDM_DISCOVERY_CONFIG'),
    );
    const script = container.args[0] as string;
    expect(script).toContain(
      `sync --from csv /etc/mdm-discovery-sync/customers.csv --out ${imageEnv('MDM_DISCOVERY_CONFIG')}`,
    );
    // The script's own exit mapping, with the command standing in as a given exit code.
    const exitOf = (code: number) =>
      spawnSync('/bin/sh', ['-c', script.replace(/^node \S+ sync [^;]*/, `(exit ${code})`)]).status;
    expect([0, 3, 1, 2].map(exitOf)).toEqual([0, 0, 1, 2]);
  });
});
