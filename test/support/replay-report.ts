/**
 * Child process of test/integration/report.test.ts: replays a capture with replayCapture (not the CLI), writes the
 * report those scores and alerts make, and prints each model-scored device's highest score as JSON. Run apart from
 * mocha so that the TF.js work of this replay does not share the test process.
 *
 *   node dist/test/support/replay-report.js <capture> <models dir> <report out> <run id> <sensor id> <backend>
 */
import type { Alert, WindowScore } from '../../src/records/alert.js';
import { parseDetectConfig } from '../../src/detect/config.js';
import { replayCapture } from '../../src/compose/embedded.js';
import { ReportCollector } from '../../src/sinks/report/html.js';
import { reportSummary } from '../../src/cli/run.js';

const [capture, modelsDir, out, runId, sensorId, backend] = process.argv.slice(2) as [string, string, string, string, string, string];
const maxScore: Record<string, number> = {};
const collector = new ReportCollector();
const detect = parseDetectConfig({ models_dir: modelsDir });
const result = await replayCapture(capture, detect, {
  features: { run_id: runId },
  sinks: {
    onScores: (scores: WindowScore[]) => {
      collector.onScores(scores);
      for (const s of scores) if (!s.learning && Number.isFinite(s.score)) maxScore[s.device_id] = Math.max(maxScore[s.device_id] ?? 0, s.score);
    },
    onAlerts: (a: Alert[]) => collector.onAlerts(a),
  },
});
collector.write(out, reportSummary(capture, result, { run_id: runId, sensor_id: sensorId, models_dir: modelsDir, backend, startup_grace_s: detect.startup_grace_s }), result.inventory);
process.stdout.write(`${JSON.stringify(maxScore)}\n`);
