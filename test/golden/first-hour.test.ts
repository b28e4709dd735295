/**
 * Golden transcript of a new user's first hour (issue 22): the README's first commands, run as the user runs them
 * (the real CLI in a fresh folder, default logging, a 120-column terminal), each compared with its reviewed
 * transcript in test/golden/first-hour/<step>.txt (command, exit code, stdout, stderr). A change to any output fails
 * here until the transcript is reviewed and updated:
 *
 *   WW_UPDATE_GOLDEN=1 npx mocha dist/test/golden/first-hour.test.js     # rewrite the transcripts, then review the diff
 *
 * Only what differs from machine to machine is masked (the folder, timings, rates, report size); counts, alerts,
 * thresholds and messages are compared as they are (training and scoring are deterministic on a backend).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/fixtures.js';

const CLI = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const GOLDEN = path.join(repoRoot, 'test', 'golden', 'first-hour');
const UPDATE = process.env['WW_UPDATE_GOLDEN'] === '1';

interface Step {
  /** The transcript's file name (without .txt). */
  name: string;
  /** What the user types after `npx wardwatch`. */
  args: string[];
  /** Set-up in the folder before the command (e.g. a bad file). */
  before?: (cwd: string) => void;
}

/** The README's first hour, in its order. */
const STEPS: Step[] = [
  { name: '01-help', args: ['--help'] },
  { name: '02-demo', args: ['run', '--report', 'out/report.html'] },
  {
    name: '03-run-not-a-capture',
    args: ['run', 'notes.txt'],
    before: (cwd) => writeFileSync(path.join(cwd, 'notes.txt'), 'this is not a capture\n'),
  },
  {
    name: '04-run-cut-capture',
    args: ['run', 'cut.pcap', '-q'],
    before: (cwd) => writeFileSync(path.join(cwd, 'cut.pcap'), readFileSync(path.join(repoRoot, 'captures', 'demo.pcap')).subarray(0, 100_000)),
  },
  { name: '05-unknown-option', args: ['run', '--speed', 'max'] },
  { name: '06-train', args: ['train', 'captures/demo.pcap'] },
  { name: '07-evaluate', args: ['evaluate', 'captures/demo.pcap', '--labels', 'captures/demo.labels.json'] },
  { name: '08-inventory', args: ['inventory', 'list'] },
];

/** What differs from one machine or run to the next, masked; nothing else. */
export function normalise(text: string, cwd: string): string {
  return (
    text
      .split(cwd)
      .join('<cwd>')
      .split(repoRoot)
      .join('<repo>')
      // Progress lines with a wall-clock stamp, rate and ETA (written while reading; their count depends on speed).
      .split('\n')
      .filter((l) => !/^\d{4}-\d{2}-\d{2}T\S+Z \w+ +\d/.test(l))
      .join('\n')
      // How long training a model took on this machine ("…, threshold 12.9, 0.4 s"); every other number stays.
      .replace(/, \d+(\.\d+)? s$/gm, ', <t> s')
      .replace(/\(\d+ kB\)/g, '(<n> kB)')
      .replace(/[\d,]+ packets\/s/g, '<n> packets/s')
  );
}

function transcript(step: Step, r: { status: number | null; stdout: string; stderr: string }, cwd: string): string {
  return [`$ npx wardwatch ${step.args.join(' ')}`, `exit ${r.status}`, '--- stdout', normalise(r.stdout, cwd), '--- stderr', normalise(r.stderr, cwd), ''].join('\n');
}

describe("golden transcript: a new user's first hour (README commands, real CLI)", function () {
  this.timeout(180_000);
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'ww-first-hour-'));
    // The user's clone: the shipped captures where the README's commands find them (the models are the package's).
    symlinkSync(path.join(repoRoot, 'captures'), path.join(cwd, 'captures'));
    if (UPDATE) mkdirSync(GOLDEN, { recursive: true });
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  for (const step of STEPS) {
    it(`${step.name}: npx wardwatch ${step.args.join(' ')}`, () => {
      step.before?.(cwd);
      const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: '120', NO_COLOR: '1' };
      // The user's defaults: the test runner's own silence (test/support/env.ts) is not theirs.
      delete env['WARDWATCH_LOG_LEVEL'];
      delete env['WARDWATCH_LOG_FORMAT'];
      const r = spawnSync(process.execPath, [CLI, ...step.args], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
      const got = transcript(step, r, cwd);
      const file = path.join(GOLDEN, `${step.name}.txt`);
      if (UPDATE) writeFileSync(file, got);
      assert.ok(existsSync(file), `${file} missing: run with WW_UPDATE_GOLDEN=1 and review it`);
      assert.equal(got, readFileSync(file, 'utf8'), `${step.name} changed: review, then WW_UPDATE_GOLDEN=1 npx mocha dist/test/golden/first-hour.test.js`);
    });
  }
});
