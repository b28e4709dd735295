/**
 * The evaluation scenario shared by the floors test (test/eval/floors.test.ts) and the tuning script
 * (bench/model-tune.ts): one hospital (layout seed 7101), a benign training day (traffic seed 7102), and 4.25 h of
 * traffic with one attack of each of the 12 original kinds from +1 h and, after them, an identity spoof by an HL7
 * sender and by a modality, measured from +1 h. Only the evaluation capture's traffic seed differs between tuning
 * (7201, 7202, …) and the held-out check (7103, used by no run that chose settings).
 */
import { join } from 'node:path';
import { simulate, type AttackSpec } from '../../src/simulate/index.js';
import type { Archetype, AttackKind } from '../../src/simulate/labels.js';
import { parseDetectConfig } from '../../src/detect/index.js';
import { evaluateCapture, readLabels, type CaptureEvaluation } from '../../src/evaluate.js';
import { devEvalDir } from '../support/fixtures.js';

export const H = 3600;
export const LAYOUT_SEED = 7101;
export const TRAIN_SEED = 7102;
/** The held-out traffic seed: the floors test's. Never used to choose settings. */
export const HELD_OUT_SEED = 7103;
/** Traffic seeds the detector's settings were chosen on (bench/model-tune.ts). */
export const TUNING_SEEDS = [7201, 7202, 7203, 7204, 7205, 7206, 7207, 7208] as const;
export const DEVICES: Partial<Record<Archetype, number>> = { pump: 2, monitor: 2, imaging: 1, pacs: 1, reading_ws: 1, nurse_pc: 3, telemetry: 1, lab: 2, bacnet: 2 };
export const TRAIN_START = Date.parse('2026-03-02T00:00:00Z') / 1000;
export const EVAL_START = Date.parse('2026-03-04T06:00:00Z') / 1000;
export const EVAL_DURATION_S = 4.25 * H;
/** Measurement starts here: the first hour (every device booting at once) is replayed, not measured. */
export const MEASURE_FROM = EVAL_START + H;
/** One of each of the 12 original kinds, 12 minutes apart from +1 h, each on a device that has a baseline. */
export const ATTACKS_12: [AttackKind, number, string][] = [
  ['port_scan', 1.0, 'nursepc-01'],
  ['slow_scan', 1.2, 'pump-01'],
  ['syn_flood', 1.8, 'nursepc-02'],
  ['udp_flood', 2.0, 'telemetry-01'],
  ['exfiltration', 2.2, 'nursepc-03'],
  ['c2_beacon', 2.4, 'monitor-01'],
  ['dns_tunnel', 2.8, 'lab-01'],
  ['arp_spoof', 3.0, 'nursepc-01'],
  ['brute_force_telnet', 3.2, 'bms-ctl-01'],
  ['brute_force_ssh', 3.4, 'lab-02'],
  ['lateral_movement', 3.6, 'monitor-02'],
  ['new_peer', 3.8, 'pump-02'],
];

/**
 * The evaluation's attacks: the 12 above, then `identity_spoof` (issue 23) in its two forms — a monitor sending HL7
 * ADT messages and the CT querying its PACS from a new AE title — at the end of the capture, when every device's
 * identity has long settled (`devices.identity_settle_ms`, 1 h from its first HL7/DICOM message). Appended, so that
 * the 12 keep their ids (a1–a12) and their streams: their traffic is that of the 12-kind capture (pinned by
 * test/unit/simulate-pinned.test.ts).
 */
export const ATTACKS: [AttackKind, number, string][] = [...ATTACKS_12, ['identity_spoof', 4.0, 'monitor-01'], ['identity_spoof', 4.1, 'imaging-01']];

export function simulateTrainingDay(out: string, seed = TRAIN_SEED): ReturnType<typeof simulate> {
  return simulate({ seed, layout_seed: LAYOUT_SEED, start: TRAIN_START, duration_s: 24 * H, devices: DEVICES, attacks: [], out, dicom_image_bytes: 1024 });
}

/** The evaluation capture; `list` ATTACKS_12 gives the capture as it was before identity_spoof existed. */
export function simulateEvaluation(out: string, seed: number, list: readonly [AttackKind, number, string][] = ATTACKS): ReturnType<typeof simulate> {
  const attacks: AttackSpec[] = list.map(([kind, hours, device]) => ({ kind, offset_s: hours * H, device }));
  return simulate({ seed, layout_seed: LAYOUT_SEED, start: EVAL_START, duration_s: EVAL_DURATION_S, devices: DEVICES, attacks, out, dicom_image_bytes: 1024 });
}

/*
 * The slow-attack scenario (issue 19 item 5): the same kind of hospital with three quiet devices added (pump-03,
 * monitor-03 and bms-ctl-03 report every 5 minutes: traffic in ≤ 10 % of 10-s windows), a benign training day, and
 * 4 h of traffic holding one attack of each slow or periodic kind — C2 beacons every 30 s, 2 min and 10 min (± 20 %),
 * a 25 MB exfiltration over 30 min, a single lateral connection — plus a port scan from a quiet device, measured from
 * +1 h. No two attacks share a device. As for the scenario above, only the evaluation capture's traffic seed differs
 * between tuning (SLOW_TUNING_SEEDS) and the held-out check (SLOW_HELD_OUT_SEED, to be used by no run that chooses
 * settings). The existing scenario's functions, seeds and output are unchanged.
 */
export const SLOW_LAYOUT_SEED = 7301;
export const SLOW_TRAIN_SEED = 7302;
/** The held-out traffic seed of the slow scenario. Never used to choose settings. */
export const SLOW_HELD_OUT_SEED = 7303;
/** Traffic seeds of the slow scenario that settings may be chosen on. */
export const SLOW_TUNING_SEEDS = [7401, 7402, 7403, 7404, 7405, 7406, 7407, 7408] as const;
/** DEVICES plus one quiet pump, monitor and building controller (the last of each archetype). */
export const SLOW_DEVICES: Partial<Record<Archetype, number>> = { ...DEVICES, pump: 3, monitor: 3, bacnet: 3 };
export const SLOW_QUIET_DEVICES: Partial<Record<Archetype, number>> = { pump: 1, monitor: 1, bacnet: 1 };
export const SLOW_TRAIN_START = TRAIN_START;
export const SLOW_EVAL_START = EVAL_START;
export const SLOW_EVAL_DURATION_S = 4 * H;
/** Measurement starts here, as in the scenario above. */
export const SLOW_MEASURE_FROM = SLOW_EVAL_START + H;
/** [kind, start (h after the capture start), duration (s, undefined = the kind's default), device]. */
export const SLOW_ATTACKS: [AttackKind, number, number | undefined, string][] = [
  ['c2_beacon_30s', 1.0, undefined, 'pump-01'], // 60 min
  ['c2_beacon_2min', 1.0, undefined, 'monitor-01'], // 60 min
  ['c2_beacon_10min', 1.0, undefined, 'lab-01'], // 120 min
  ['slow_exfiltration', 1.25, undefined, 'nursepc-01'], // 30 min
  ['lateral_single', 2.0, undefined, 'monitor-02'], // one connection in its first 5 s
  ['port_scan', 2.5, undefined, 'pump-03'], // 60 s, from the quiet pump
];

export function simulateSlowTrainingDay(out: string, seed = SLOW_TRAIN_SEED): ReturnType<typeof simulate> {
  return simulate({
    seed,
    layout_seed: SLOW_LAYOUT_SEED,
    start: SLOW_TRAIN_START,
    duration_s: 24 * H,
    devices: SLOW_DEVICES,
    quiet_devices: SLOW_QUIET_DEVICES,
    attacks: [],
    out,
    dicom_image_bytes: 1024,
  });
}

export function simulateSlowEvaluation(out: string, seed: number): ReturnType<typeof simulate> {
  const attacks: AttackSpec[] = SLOW_ATTACKS.map(([kind, hours, duration_s, device]) => ({ kind, offset_s: hours * H, ...(duration_s !== undefined ? { duration_s } : {}), device }));
  return simulate({
    seed,
    layout_seed: SLOW_LAYOUT_SEED,
    start: SLOW_EVAL_START,
    duration_s: SLOW_EVAL_DURATION_S,
    devices: SLOW_DEVICES,
    quiet_devices: SLOW_QUIET_DEVICES,
    attacks,
    out,
    dicom_image_bytes: 1024,
  });
}

/** The labelled real-device sets of ../shared/dev-eval (test/eval/dev-eval.test.ts, the README's real-device tables). */
export const DEV_EVAL_SETS = ['D1', 'D2'] as const;

/** Evaluates one real-device set as `wardwatch evaluate` does: train before the labels' train_end, then evaluate the rest. */
export async function evaluateDevSet(set: string): Promise<{ evaluation: CaptureEvaluation; names: Map<string, string> }> {
  const labels = readLabels(join(devEvalDir, `${set}.labels.json`));
  if (labels.train_end === undefined) throw new Error(`${set} labels have no train_end`);
  const evaluation = await evaluateCapture(join(devEvalDir, `${set}.pcap`), labels, parseDetectConfig({}), { train_before: labels.train_end });
  return { evaluation, names: new Map(labels.devices.map((d) => [d.device_id, d.name])) };
}
