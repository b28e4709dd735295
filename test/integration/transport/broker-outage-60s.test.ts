/**
 * Issue 21 item 3, the broker's long outages on the distributed path, as processes: `wardwatch sensor -r demo.pcap`
 * (50 min of packet time paced 120×: 25 s) → a broker of this test's own (port offset +260: the shared broker is never touched) → two
 * `wardwatch detect` members of one group → alerts files. Mid-replay the broker is
 *  - frozen (SIGSTOP) for 60 s, then SIGCONT;
 *  - killed (SIGKILL) and started again 60 s later on the same data;
 *  - stopped cleanly (SIGTERM) and started again at once (a broker restart while the detectors run).
 * After each: every process still up (a retriable error never ends one) and healthy; the feature topic holds every
 * window of the capture exactly once; the group committed all of it; the alerts (both detectors' files together,
 * de-duplicated by alert id and time as the sinks do) are those of `wardwatch run` on the same capture; the outage
 * shows in /metrics and in one log line at its start and one at its end in the sensor and in each detector; and the
 * time from the broker's return to the last alert written is reported (and from the sensor's end: a paced replay
 * cannot end before its 25 s and the attacks are in its last minutes, which bounds the figure after a short outage).
 *
 * Takes ~3.5 min (measured on 2 shared cores): broker start and the reference run ~20 s, the SIGSTOP case ~72 s (60 s
 * frozen, everything written ~1.2 s after SIGCONT), the SIGKILL case ~94 s (60 s down, ~12 s for the broker to start
 * on its data, everything written ~10.6 s after), the restart ~33 s.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCapture } from '../../../src/cli/run.js';
import { parseConfig } from '../../../src/config/load.js';
import { createKafka, DEFAULT_KAFKA_CONNECTION } from '../../../src/transport/kafka/client.js';
import { DEFAULT_KAFKA, kafkaBrokers, pauseKafka, resumeKafka, startKafka, stopKafka } from '../../../scripts/services/kafka.js';
import { waitForGroupCommitted } from '../../support/consumed.js';
import { mergedAlerts, REPO, signalService, sleep, topicWindows, until, WardwatchProcess } from '../../support/distributed.js';
import { freshName, requireKafka } from '../../support/services.js';

const capture = path.join(REPO, 'captures', 'demo.pcap');
const OWN = { ...DEFAULT_KAFKA, instance: 'faults-60s', port: DEFAULT_KAFKA.port + 260, controller_port: DEFAULT_KAFKA.controller_port + 260, heap: '384m' };
const OUTAGE_MS = 60_000;

interface Figures {
  outage_ms: number;
  caught_up_ms: number;
  after_sensor_end_ms: number;
  alerts_ms: number;
  windows: number;
  redelivered: number;
  duplicates_removed: number;
  sensor_outage_seen_ms: number;
  detector_outage_seen_ms: number;
}

describe('broker outages of 60 s mid-replay: sensor and two detectors as processes, own broker', function () {
  this.timeout(180_000);
  let dir: string;
  let reference: { records: string[]; windows: number };
  before(async function () {
    this.timeout(300_000);
    await requireKafka(); // the jars (and Java) are there
    await startKafka(OWN);
    dir = mkdtempSync(path.join(os.tmpdir(), 'ww-outage-60s-'));
    // The reference: `wardwatch run` on the same capture, its alerts file (sensor id 'ward', as the sensor's windows carry).
    const file = path.join(dir, 'run.jsonl');
    const ran = await runCapture(capture, parseConfig({ sensor: { id: 'ward' }, detect: { models_dir: path.join(REPO, 'models') }, sinks: { files: { alerts_file: file } }, service: { metrics_listen: '' } }, 'test', {}), { speed: 'max' }, 'run');
    reference = { records: mergedAlerts([file]).records, windows: ran.windows_scored };
    assert.ok(reference.records.length > 50, `${reference.records.length} alerts from run`);
  });
  after(async function () {
    this.timeout(60_000);
    await signalService(OWN.instance, 'SIGCONT').catch(() => undefined);
    await stopKafka(OWN.instance);
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts two detectors and the sensor on fresh topics, runs `fault` once windows flow (it resolves when the broker
   * is back, with the outage's length), then checks everything and returns the figures.
   */
  async function scenario(name: string, fault: () => Promise<number>, o: { long: boolean }): Promise<Figures> {
    const prefix = `${freshName(`ww-${name}`)}.`;
    const group = freshName(`ww-${name}-g`);
    const kafka = { brokers: kafkaBrokers(OWN), topics: { prefix, partitions: 3 }, consumer: { group_id: group, session_timeout_ms: 10_000, heartbeat_interval_ms: 1000 } };
    const detectorConfig = (n: number): Record<string, unknown> => ({
      sensor: { id: `${name}-det-${n}` },
      transport: { kind: 'kafka', kafka: { ...kafka, producer: { spool_dir: '' } } },
      detect: { models_dir: path.join(REPO, 'models') },
      sinks: { files: { alerts_file: path.join(dir, `${name}-det-${n}.jsonl`) } },
    });
    const files = [1, 2].map((n) => path.join(dir, `${name}-det-${n}.jsonl`));
    const detectors = await Promise.all([1, 2].map((n) => WardwatchProcess.start(dir, `${name}-det-${n}`, 'detect', detectorConfig(n))));
    let sensor: WardwatchProcess | undefined;
    const all = (): WardwatchProcess[] => [...detectors, ...(sensor ? [sensor] : [])];
    try {
      for (const d of detectors) await until(() => `${d.name} /healthz 200\n${d.tail()}`, 60_000, async () => (await d.health()).status === 200);
      sensor = await WardwatchProcess.start(
        dir,
        `${name}-sensor`,
        'sensor',
        { sensor: { id: 'ward' }, transport: { kind: 'kafka', kafka: { ...kafka, producer: { spool_dir: path.join(dir, `${name}-spool`) } } } },
        ['-r', capture, '--speed', '120x'],
      );
      const s = sensor;
      const scored = async (): Promise<number> => (await Promise.all(detectors.map((d) => d.metrics()))).reduce((n, m) => n + (m['consumer_processed'] ?? 0), 0);
      await until(() => `windows scored\n${s.tail()}`, 60_000, async () => (await scored()) >= 300);
      const scoredAtFault = await scored();

      // The fault; meanwhile /metrics is watched for the outage (sensor: producer, detectors: consumer).
      const t0 = Date.now();
      const seen = { sensor: -1, detector: -1 };
      let watching = true;
      const watch = (async () => {
        while (watching) {
          if (seen.sensor < 0 && (await s.metrics())['producer_broker_unreachable'] === 1) seen.sensor = Date.now() - t0;
          if (seen.detector < 0) for (const d of detectors) if ((await d.metrics())['consumer_broker_unreachable'] === 1) seen.detector = Date.now() - t0;
          await sleep(250);
        }
      })();
      const outageMs = await fault();
      const back = Date.now();

      // The sensor ends its replay (exit 0) once everything is delivered; the group commits all of it.
      const code = await Promise.race([s.exited, sleep(120_000).then(() => 'running' as const)]);
      assert.equal(code, 0, `sensor exit\n${s.tail()}`);
      const sensorEnd = Date.now();
      const admin = createKafka({ ...DEFAULT_KAFKA_CONNECTION, brokers: kafkaBrokers(OWN) });
      await waitForGroupCommitted(admin, group, `${prefix}features`, `the detectors did not consume everything\n${detectors.map((d) => d.tail()).join('\n')}`, 120_000);
      const caughtUp = Date.now() - back;
      await until(() => `${reference.records.length} alerts written; ${mergedAlerts(files).records.length} so far`, 60_000, () => mergedAlerts(files).records.length >= reference.records.length);
      const alertsMs = Date.now() - back;
      const afterSensorEnd = Date.now() - sensorEnd;
      watching = false;
      await watch;

      // Every process still up and healthy: an outage is retriable.
      for (const d of detectors) {
        assert.equal(d.running, true, `${d.name} still running\n${d.tail()}`);
        const h = await d.health();
        assert.equal(h.status, 200, `${d.name} /healthz ${h.body}`);
      }
      const metrics = await Promise.all(detectors.map((d) => d.metrics()));
      const received = metrics.reduce((n, m) => n + (m['windows_received'] ?? 0), 0);
      for (const [i, m] of metrics.entries()) assert.equal(m['consumer_broker_unreachable'], 0, `detector ${i + 1}: no outage left open`);

      // Every window of the capture on the topic once; every one scored (redeliveries after a rebalance counted).
      const onTopic = await topicWindows(admin, `${prefix}features`);
      assert.equal(onTopic.windows, reference.windows, `windows on the topic: ${JSON.stringify(onTopic)}`);
      assert.equal(onTopic.distinct, reference.windows, 'no window on the topic twice');
      assert.ok(received >= reference.windows, `${received} windows scored by the detectors, ${reference.windows} in the capture`);

      // The alerts of run: none lost, none extra, none twice after de-duplication; each file without duplicates.
      const merged = mergedAlerts(files);
      assert.deepEqual(merged.records, reference.records);
      for (const f of files) assert.equal(mergedAlerts([f]).duplicates, 0, `${f}: a detector wrote an alert twice`);

      const fig: Figures = {
        outage_ms: outageMs,
        caught_up_ms: caughtUp,
        after_sensor_end_ms: afterSensorEnd,
        alerts_ms: alertsMs,
        windows: onTopic.windows,
        redelivered: received - reference.windows,
        duplicates_removed: merged.duplicates,
        sensor_outage_seen_ms: seen.sensor,
        detector_outage_seen_ms: seen.detector,
      };
      process.stderr.write(`      [faults] ${name}: ${JSON.stringify({ ...fig, scored_at_fault: scoredAtFault, joins: metrics.map((m) => m['consumer_group_joins']), restarts: metrics.map((m) => m['consumer_crashes_restarted']) })}\n`);

      // Stopped cleanly (exit 0), no WW_ line anywhere.
      for (const d of detectors) assert.equal(await d.stop(), 0, `${d.name} exit\n${d.tail()}`);
      for (const p of all()) assert.deepEqual(p.plainLines(), [], `${p.name}: no WW_ line`);

      // The outage in the logs: one line at its start and one at its end, in the sensor (its producer) and in each
      // detector (its consumer), and /metrics showed it. An outage counts from `stall_ms` (5 s) without an answer: a
      // quick restart may end before (then no line at all, and never a start without its end).
      const lines = [
        { p: s, start: s.logged('broker unreachable: buffering windows').length, end: s.logged('broker reachable again: delivering buffered windows').length },
        ...detectors.map((d) => ({ p: d, start: d.logged(/^broker unreachable/).length, end: d.logged(/^broker reachable again/).length })),
      ];
      for (const l of lines) {
        const msgs = (): string => l.p.logs().map((x) => String(x['msg'])).filter((m) => /broker/.test(m)).join('\n');
        if (o.long) assert.equal(l.start, 1, `${l.p.name}: one 'broker unreachable' line\n${msgs()}`);
        else assert.ok(l.start <= 1, `${l.p.name}: at most one 'broker unreachable' line\n${msgs()}`);
        assert.equal(l.end, l.start, `${l.p.name}: one 'reachable again' line for each 'unreachable' line\n${msgs()}`);
      }
      if (o.long) {
        // Counted too: the sensor's final counters ("sensor stopped") hold one outage of its producer.
        const final = s.logs().find((x) => x['msg'] === 'sensor stopped');
        assert.equal(final?.['producer_outages'], 1, `the sensor's producer_outages\n${s.tail()}`);
        assert.ok(seen.sensor >= 0, 'the sensor showed producer_broker_unreachable 1 in /metrics during the outage');
        assert.ok(seen.detector >= 0, 'a detector showed consumer_broker_unreachable 1 in /metrics during the outage');
      }
      process.stderr.write(`      [faults] ${name}: outage lines (start/end) ${lines.map((l) => `${l.p.name} ${l.start}/${l.end}`).join(', ')}\n`);
      return fig;
    } finally {
      const keep = process.env['WARDWATCH_TEST_LOG_DIR'];
      if (keep) {
        for (const p of all()) writeFileSync(path.join(keep, `${p.name}.log`), p.stderr);
        for (const f of [...files, path.join(dir, 'run.jsonl')]) if (existsSync(f)) copyFileSync(f, path.join(keep, `${name}-${path.basename(f)}`));
      }
      for (const p of all()) p.kill();
      await Promise.all(all().map((p) => p.exited));
    }
  }

  it('broker frozen (SIGSTOP) for 60 s mid-replay: nothing lost, the alerts of run, written within seconds of SIGCONT', async () => {
    const f = await scenario('sigstop', async () => {
      await signalService(OWN.instance, 'SIGSTOP');
      await sleep(OUTAGE_MS);
      await signalService(OWN.instance, 'SIGCONT');
      return OUTAGE_MS;
    }, { long: true });
    assert.ok(f.alerts_ms < 30_000, `alerts written ${f.alerts_ms} ms after the broker's return`);
  });

  it('broker killed (SIGKILL) and started again 60 s later: nothing lost, the alerts of run, written within seconds', async () => {
    const f = await scenario('sigkill', async () => {
      const t0 = Date.now();
      await signalService(OWN.instance, 'SIGKILL');
      await sleep(OUTAGE_MS);
      await resumeKafka(OWN); // same data dir: what was acknowledged is there
      return Date.now() - t0;
    }, { long: true });
    assert.ok(f.alerts_ms < 30_000, `alerts written ${f.alerts_ms} ms after the broker's return`);
  });

  it('broker restarted (stopped cleanly, started again at once) while the detectors run', async () => {
    const f = await scenario('restart', async () => {
      const t0 = Date.now();
      await pauseKafka(OWN.instance);
      await resumeKafka(OWN);
      return Date.now() - t0;
    }, { long: false });
    assert.ok(f.alerts_ms < 30_000, `alerts written ${f.alerts_ms} ms after the broker's return`);
  });
});
