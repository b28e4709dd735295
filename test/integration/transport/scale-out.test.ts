/**
 * Scale-out on the real broker: a sensor produces the demo capture's feature windows; detectors in one group share
 * the partitions. Two detector PROCESSES with one killed (SIGKILL) mid-stream must end with the same set of alerts
 * as one detector alone: the survivor takes over the dead member's partitions and continues from the per-device
 * state the dead one wrote (compacted state topic), and redelivered batches produce identical alert ids.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { DetectorService } from '../../../src/compose/detector.js';
import { SensorService } from '../../../src/compose/sensor.js';
import { kafkaFromConfig } from '../../../src/compose/kafka.js';
import type { Alert } from '../../../src/records/alert.js';
import { freshName, requireKafka } from '../../support/services.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const capture = path.join(repo, 'captures', 'demo.pcap');

function readAlerts(file: string): Alert[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('detectors scale out in one consumer group (real broker, real processes)', function () {
  this.timeout(300_000);
  let brokers: string[];
  let dir: string;
  const children: ChildProcess[] = [];
  before(async function () {
    this.timeout(300_000);
    brokers = await requireKafka();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-scale-'));
  });
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function raw(prefix: string, group: string, alertsFile: string): Record<string, unknown> {
    return {
      sensor: { id: 'scale-test' },
      transport: {
        kind: 'kafka',
        kafka: {
          brokers,
          topics: { prefix, partitions: 4, replication_factor: 1 },
          // Window batches of ≤ 20 windows, ≤ 100 windows per request: many small record batches on each partition.
          producer: { spool_dir: path.join(dir, `spool-${prefix}`), message_max_windows: 20, batch_max_messages: 100 },
          // Small fetches: many batches, so a member can die mid-stream.
          consumer: { group_id: group, session_timeout_ms: 6000, heartbeat_interval_ms: 500, max_bytes_per_partition: 8192 },
        },
      },
      detect: { models_dir: path.join(dir, 'models-none') },
      sinks: { files: { alerts_file: alertsFile } },
      service: { metrics_listen: '' },
    };
  }

  async function produce(prefix: string): Promise<number> {
    const config = parseConfig(raw(prefix, 'unused', path.join(dir, 'unused.jsonl')), 'test', {});
    const sensor = new SensorService(config, { file: capture });
    await sensor.run();
    await sensor.stop();
    return sensor.producer.stats().produced;
  }

  /** Waits until the group committed every partition of the feature topic to its end (messages hold several windows). */
  async function waitConsumed(prefix: string, group: string, ms: number): Promise<void> {
    const config = parseConfig(raw(prefix, group, path.join(dir, 'x.jsonl')), 'test', {});
    const admin = kafkaFromConfig(config.transport.kafka!).admin();
    await admin.connect();
    try {
      const deadline = Date.now() + ms;
      const ends = await admin.fetchTopicOffsets(`${prefix}features`);
      const total = ends.reduce((n, p) => n + Number(p.high), 0);
      for (;;) {
        const committed = await admin.fetchOffsets({ groupId: group, topics: [`${prefix}features`] });
        const done = committed[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        if (done >= total) return;
        if (Date.now() > deadline) throw new Error(`group ${group} committed ${done}/${total} messages in ${ms} ms`);
        await sleep(250);
      }
    } finally {
      await admin.disconnect();
    }
  }

  async function members(prefix: string, group: string): Promise<number> {
    const config = parseConfig(raw(prefix, group, path.join(dir, 'x.jsonl')), 'test', {});
    const admin = kafkaFromConfig(config.transport.kafka!).admin();
    await admin.connect();
    try {
      const d = await admin.describeGroups([group]);
      return d.groups[0]?.state === 'Stable' ? d.groups[0].members.length : 0;
    } finally {
      await admin.disconnect();
    }
  }

  it('two detectors, one killed mid-run, give the same alerts as one', async () => {
    const prefix = `${freshName('ww-scale')}.`;
    // Two detector processes in one group, both joined before any window exists.
    const group = freshName('ww-pair');
    const files = [path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl')];
    const stderr = ['', ''];
    for (const [i, f] of files.entries()) {
      const cfg = path.join(dir, `d${i}.yaml`);
      writeFileSync(cfg, stringify(raw(prefix, group, f)));
      const child = spawn(process.execPath, [cli, 'detect', '-c', cfg], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARDWATCH_LOG_LEVEL: 'warn' } });
      child.stderr.on('data', (d: Buffer) => (stderr[i] += d.toString()));
      children.push(child);
    }
    const joinDeadline = Date.now() + 90_000;
    while ((await members(prefix, group).catch(() => 0)) < 2) {
      if (Date.now() > joinDeadline) throw new Error(`detectors did not both join the group:\n${stderr.join('\n---\n').slice(-3000)}`);
      await sleep(500);
    }

    const windows = await produce(prefix);
    assert.ok(windows > 1000, `${windows} windows produced`);

    const deadline = Date.now() + 120_000;
    while (readAlerts(files[0]!).length < 3 || readAlerts(files[1]!).length < 3) {
      if (Date.now() > deadline) throw new Error(`detectors did not both write alerts:\n${stderr.join('\n---\n').slice(-3000)}`);
      await sleep(50);
    }
    children[0]!.kill('SIGKILL');
    const killedWith = readAlerts(files[0]!).length;
    await waitConsumed(prefix, group, 120_000);
    children[1]!.kill('SIGTERM');
    await new Promise((r) => children[1]!.once('exit', r));

    // Reference: one detector alone, in its own group, over the same topic.
    const refFile = path.join(dir, 'ref.jsonl');
    const refGroup = freshName('ww-ref');
    const single = new DetectorService(parseConfig(raw(prefix, refGroup, refFile), 'test', {}));
    await single.start();
    await waitConsumed(prefix, refGroup, 120_000);
    await single.stop();
    // An incident's alert is re-emitted under the same id when its severity rises (sinks overwrite by id): compare the
    // latest state of each id.
    const latest = (alerts: Alert[]): Map<string, Alert> => {
      const m = new Map<string, Alert>();
      for (const a of alerts) if (!m.has(a.alert_id) || m.get(a.alert_id)!.ts <= a.ts) m.set(a.alert_id, a);
      return m;
    };
    const reference = [...latest(readAlerts(refFile)).values()];
    assert.ok(reference.length > 10, `${reference.length} reference alerts`);

    const union = latest([...readAlerts(files[0]!), ...readAlerts(files[1]!)]);
    assert.ok(killedWith < reference.length, 'the killed detector had not done everything');
    const refIds = new Set(reference.map((a) => a.alert_id));
    const extra = [...union.values()].filter((a) => !refIds.has(a.alert_id));
    const missing = reference.filter((a) => !union.has(a.alert_id));
    const show = (a: Alert): string => `${a.kind} ${a.device_id} ts=${a.ts} since=${a.since} in ${readAlerts(files[0]!).some((x) => x.alert_id === a.alert_id) ? 'A(killed)' : 'B'}`;
    const refOf = (a: Alert): string => reference.filter((r) => r.device_id === a.device_id && r.kind === a.kind).map((r) => `ref ts=${r.ts} since=${r.since}`).join('; ');
    assert.deepEqual([...union.keys()].sort(), reference.map((a) => a.alert_id).sort(), `extra: ${extra.map((a) => `${show(a)} | ${refOf(a)}`).join('\n')}\nmissing: ${missing.map((a) => `${a.kind} ${a.device_id} ts=${a.ts}`).join('\n')}`);
    for (const a of reference) assert.deepEqual(union.get(a.alert_id), a);
  });
});
