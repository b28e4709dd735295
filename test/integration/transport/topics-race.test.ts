/**
 * Issue 21 item 3, "topics created while detectors start": two `wardwatch detect` processes and `wardwatch sensor -r`
 * started at the same moment on a fresh topic prefix — none of the topics exists, the three race to create them, the
 * detectors join a group on a topic whose partitions may not have leaders yet. Before, "This server does not host this
 * topic-partition" left `detect` up and healthy scoring nothing in 3 of ~20 starts. Five rounds, each on fresh topics:
 * in every round the group commits every window the sensor produced and each detector is healthy, or a detector that
 * cannot recover has ended non-zero with exactly one `WW_` line (a process up doing nothing fails the test).
 * A fresh broker of the test's own (port offset +270), as a new deployment's: on the long-running shared broker the
 * creation race was never lost (0 failed detector starts in 30), on a fresh one it is (3 in 30, each retried and
 * then scoring everything). Takes ~30–36 s (broker start, then 5 rounds of ~3 s).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafka, DEFAULT_KAFKA_CONNECTION } from '../../../src/transport/kafka/client.js';
import { DEFAULT_KAFKA, kafkaBrokers, startKafka, stopKafka } from '../../../scripts/services/kafka.js';
import { waitForGroupCommitted } from '../../support/consumed.js';
import { REPO, topicWindows, until, WardwatchProcess } from '../../support/distributed.js';
import { freshName, requireKafka } from '../../support/services.js';

const ROUNDS = 5;
const OWN = { ...DEFAULT_KAFKA, instance: 'faults-topics-race', port: DEFAULT_KAFKA.port + 270, controller_port: DEFAULT_KAFKA.controller_port + 270, heap: '384m' };
const capture = path.join(REPO, 'captures', 'golden', 'hl7-monitor.pcap');

describe('topics created while the detectors start: detectors and sensor started at once on fresh topics (own fresh broker)', function () {
  this.timeout(ROUNDS * 60_000 + 60_000);
  let brokers: string[];
  let dir: string;
  before(async function () {
    this.timeout(300_000);
    await requireKafka(); // the jars (and Java) are there
    await startKafka(OWN);
    brokers = kafkaBrokers(OWN);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-topics-race-'));
  });
  after(async function () {
    this.timeout(60_000);
    await stopKafka(OWN.instance);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds: every window scored and the detectors healthy, or a detector ended non-zero with one WW_ line`, async () => {
    const figures: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const prefix = `${freshName(`ww-race${round}`)}.`;
      const group = freshName(`ww-race${round}-g`);
      const kafka = { brokers, topics: { prefix, partitions: 3 }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
      const detector = (n: number): Record<string, unknown> => ({
        sensor: { id: `race-det-${n}` },
        transport: { kind: 'kafka', kafka: { ...kafka, producer: { spool_dir: '' } } },
        detect: { models_dir: path.join(REPO, 'models') },
        sinks: { files: { alerts_file: path.join(dir, `r${round}-det-${n}.jsonl`) } },
      });
      const sensorConfig = { sensor: { id: 'ward' }, transport: { kind: 'kafka', kafka: { ...kafka, producer: { spool_dir: path.join(dir, `r${round}-spool`) } } } };
      // The three processes at the same moment.
      const procs = await Promise.all([
        WardwatchProcess.start(dir, `r${round}-det-1`, 'detect', detector(1), [], 'warn'),
        WardwatchProcess.start(dir, `r${round}-det-2`, 'detect', detector(2), [], 'warn'),
        WardwatchProcess.start(dir, `r${round}-sensor`, 'sensor', sensorConfig, ['-r', capture], 'warn'),
      ]);
      const [d1, d2, sensor] = procs;
      const t0 = Date.now();
      try {
        const code = await Promise.race([sensor.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 60_000))]);
        assert.equal(code, 0, `round ${round}: sensor exit\n${sensor.tail()}`);
        const admin = createKafka({ ...DEFAULT_KAFKA_CONNECTION, brokers });
        const onTopic = await topicWindows(admin, `${prefix}features`);
        assert.ok(onTopic.windows > 0, `round ${round}: the sensor produced windows`);
        // Either the group consumes everything (both detectors up) or a detector that cannot recover ended with a WW_ line.
        let outcome: string;
        try {
          await waitForGroupCommitted(admin, group, `${prefix}features`, `round ${round}: the detectors did not consume everything`, 45_000);
          outcome = 'all committed';
        } catch (err) {
          const ended = [d1, d2].filter((d) => !d.running);
          if (ended.length === 0) throw new Error(`${(err as Error).message}: both detectors up doing nothing\n${d1.tail()}\n${d2.tail()}`, { cause: err });
          for (const d of ended) {
            assert.notEqual(d.exitCode, 0, `${d.name} ended with exit 0`);
            assert.equal(d.plainLines().length, 1, `${d.name}: one plain line\n${d.tail()}`);
            assert.match(d.plainLines()[0]!, /^wardwatch: WW_[A-Z_]+: /);
          }
          outcome = `detector(s) ended: ${ended.map((d) => d.plainLines()[0]).join(' | ')}`;
        }
        for (const d of [d1, d2]) {
          if (!d.running) continue;
          await until(() => `${d.name} /healthz 200`, 30_000, async () => (await d.health()).status === 200);
        }
        const received = (await Promise.all([d1, d2].map((d) => d.metrics()))).reduce((n, m) => n + (m['windows_received'] ?? 0), 0);
        if (outcome === 'all committed') assert.ok(received >= onTopic.windows, `round ${round}: ${received} windows scored of ${onTopic.windows}`);
        // No start error that was not coded, and no WW_ line from a process that is still up.
        for (const d of [d1, d2]) if (d.running) assert.deepEqual(d.plainLines(), [], `${d.name}: no plain line while up`);
        const failedStarts = (await Promise.all([d1, d2].map((d) => d.metrics()))).map((m) => m['start_failures'] ?? 0);
        figures.push(`round ${round}: ${outcome}, ${onTopic.windows} windows, ${received} scored, ${Date.now() - t0} ms, start retries ${failedStarts.join('+')}`);
      } finally {
        const keep = process.env['WARDWATCH_TEST_LOG_DIR'];
        if (keep) for (const p of procs) writeFileSync(path.join(keep, `${p.name}.log`), p.stderr);
        await Promise.all(procs.map((p) => p.stop(15_000)));
      }
    }
    process.stderr.write(`      [faults] topics race:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
  });
});
