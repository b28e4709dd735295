/**
 * Contract: ground truth for `wardwatch evaluate`. Two formats are read:
 *
 * 1. **Generic labels** — what a user writes for their own capture (the format of the real-device sets in
 *    `../shared/dev-eval`). JSON, times in seconds since the Unix epoch (packet time):
 *
 *    ```json
 *    { "train_end": 1615591464.9,            // optional: packets before it are the baseline (train on them only)
 *      "end": 1615843226.5,                  // optional: end of the evaluated span (default: the capture's end)
 *      "devices": [ { "name": "lockly-hub", "kind": "iot_device", "ip": "192.168.1.128", "mac": "24:6f:28:d9:a7:64" } ],
 *      "attacks": [ { "kind": "port_scan", "device": "lockly-hub", "start": 1615609822.5, "end": 1615609845.6,
 *                     "note": "free text" } ] }
 *    ```
 *    `devices[]`: the monitored devices; each needs a `name` and a `mac` or an `ip` (`kind` is free text).
 *    `attacks[]`: `device` names a `devices[].name` (an attack may instead give its own `mac`/`ip`); `kind` is free text
 *    (one table row per kind).
 *    Rules (as the dev-eval README defines them): an attack is detected when a detection alert (any kind but
 *    `new_device`) names its device between `start` − 10 s and `end` + 20 s; its delay is counted in 10-s windows from
 *    `start`. A false alert is a detection alert on a listed device after `train_end` outside its attacks' ranges
 *    (with the same slack); false alerts per device-day divide by (listed devices × (end − train_end) / 86,400).
 *
 * 2. **Simulator labels** (`wardwatch simulate` writes `<capture>.labels.json`, src/simulate/labels.ts:
 *    `generator: "wardwatch-simulate"`): exact attack windows, no slack; benign device-days are wall-clock time of
 *    the devices a model scored (src/detect/evaluate.ts).
 *
 * Both are normalised to `EvaluationLabels` (src/evaluate.ts `readLabels`).
 */

/** A labelled device of the generic format. */
export interface GenericLabelDevice {
  name: string;
  kind?: string;
  ip?: string;
  mac?: string;
}

/** A labelled attack of the generic format. */
export interface GenericLabelAttack {
  kind: string;
  /** A `devices[].name`. */
  device?: string;
  ip?: string;
  mac?: string;
  start: number;
  end: number;
  note?: string;
}

export interface GenericLabels {
  train_end?: number;
  end?: number;
  devices: GenericLabelDevice[];
  attacks: GenericLabelAttack[];
}

/** One device of the normalised labels. `device_id` is the wardwatch id (`mac:…`, or `ip:…`); see `resolveLabelDevices`. */
export interface EvaluationDevice {
  name: string;
  device_id: string;
  mac?: string;
  ip?: string;
}

export interface EvaluationAttack {
  /** `a1`, `a2`, … in the file's order (simulator labels keep their own ids). */
  id: string;
  kind: string;
  device_id: string;
  /** Other devices the attack involves (simulator labels only). */
  related_device_ids: string[];
  start: number;
  end: number;
}

/** Labels of either format, normalised for the evaluation. */
export interface EvaluationLabels {
  format: 'generic' | 'simulator';
  /** Baseline end: windows before it are not evaluated; `--train-before` defaults to it. */
  train_end?: number;
  /** End of the evaluated span (generic format). */
  end?: number;
  devices: EvaluationDevice[];
  attacks: EvaluationAttack[];
  /** How far before an attack's start and after its end an alert still counts as detecting it (s). */
  slack: { before_s: number; after_s: number };
  /**
   * How false alerts are normalised: `listed` = listed devices × evaluated span (generic format);
   * `scored` = wall-clock time of the devices a model scored (simulator format).
   */
  device_days: 'listed' | 'scored';
}
