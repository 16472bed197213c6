import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const dockerfile = read('Dockerfile');
const imageEnv = (name: string) => new RegExp(`${name}=(\\S+)`).exec(dockerfile)?.[1];

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
    const imageCheck = /HEALTHCHECK[^\n]*\\\n\s+CMD (\[.*\])/.exec(dockerfile)?.[1];
    expect(service.healthcheck.test).toEqual(['CMD', ...JSON.parse(imageCheck ?? 'null')]);
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
