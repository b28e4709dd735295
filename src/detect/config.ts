/**
 * Options of the detect stage (scaling, model, training, thresholds, K-of-N alerting, lifecycle, store, backend),
 * with their defaults in one place. Units are in the option names. Unknown keys are rejected.
 *
 * The defaults were chosen by measurement (see src/detect/README.md and BENCHMARKS.md); every one can be overridden
 * under `detect:` in the sensor config.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BehaviourConfig } from './behaviour/config.js';
import { ConfigError } from '../errors.js';

/** The user's model store, by default (`detect.models_dir`). */
export const DEFAULT_MODELS_DIR = 'out/models';

/** The demo models shipped with wardwatch (trained on the simulator's hospital; `npm run models:demo`). */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));

export const BackendChoice = z.enum(['auto', 'tfjs-node', 'wasm', 'cpu']);
export type BackendChoice = z.infer<typeof BackendChoice>;

export const ThresholdRuleConfig = z.discriminatedUnion('rule', [
  z
    .object({
      /** threshold = quantile(held-out errors, `quantile`) × `margin`. */
      rule: z.literal('quantile'),
      quantile: z.number().gt(0.5).lt(1).default(0.995),
      margin: z.number().min(1).default(1.5),
    })
    .strict(),
  z
    .object({
      /** Fit a log-normal to the held-out errors: threshold = exp(mean(ln e) + `z` · std(ln e)). */
      rule: z.literal('lognormal'),
      z: z.number().positive().default(4),
    })
    .strict(),
]);
export type ThresholdRuleConfig = z.infer<typeof ThresholdRuleConfig>;

export const DetectConfig = z
  .object({
    /**
     * Directory of the model store that `wardwatch train` writes and the detector reads (relative: against the
     * config file's folder when written there, else the working directory). Default `out/models`, beside the other
     * outputs: the shipped demo models (`models/` of the package, SHIPPED_MODELS_DIR) are never trained into by
     * default. While the default store holds no model, `run`, `replay`, `evaluate` and `models` read the shipped demo
     * models instead, and say so (`wardwatch detect` does not: it warns).
     */
    models_dir: z.string().min(1).default(DEFAULT_MODELS_DIR),
    /** TF.js backend. `auto`: tfjs-node when installed, else the benchmark's faster pure-JS backend per job. */
    backend: BackendChoice.default('auto'),
    /** Backend that `auto` uses for training / scoring when tfjs-node is absent (chosen by bench/model.ts). */
    auto_train_backend: z.enum(['wasm', 'cpu']).default('wasm'),
    auto_score_backend: z.enum(['wasm', 'cpu']).default('wasm'),
    scaler: z
      .object({
        /** Lower bound of a feature's robust scale (IQR/1.349 of log1p values), so near-constant features don't explode. */
        min_scale: z.number().positive().default(0.05),
        /** Baseline rows (learned, validated, held out) are clipped to ±clip so one wild baseline feature cannot dominate training or the threshold. */
        clip: z.number().positive().default(20),
        /**
         * Scored windows beyond ±clip: `log` = clip + log1p(|z| − clip) (monotone and unbounded: nothing caps how
         * anomalous a window can look, but one near-constant feature cannot swamp the rest), `linear` = as they are.
         */
        tail: z.enum(['log', 'linear']).default('log'),
      })
      .strict()
      .prefault({}),
    model: z
      .object({
        /** Hidden layer sizes of the encoder; the decoder mirrors them. The last is the bottleneck. */
        hidden_units: z.array(z.number().int().positive()).min(1).default([32, 12]),
        activation: z.enum(['relu', 'elu', 'tanh', 'selu']).default('elu'),
      })
      .strict()
      .default({ hidden_units: [32, 12], activation: 'elu' }),
    training: z
      .object({
        max_epochs: z.number().int().positive().default(40),
        batch_size: z.number().int().positive().default(512),
        learning_rate: z.number().positive().default(0.02),
        /** Stop when the validation loss has not improved by `min_delta` for `patience` epochs. */
        patience: z.number().int().nonnegative().default(5),
        min_delta: z.number().nonnegative().default(1e-4),
        /** Share of the baseline used for early stopping (validation) and share held out for the threshold. */
        validation_fraction: z.number().gt(0).lt(0.5).default(0.15),
        threshold_fraction: z.number().gt(0).lt(0.5).default(0.2),
        /** Seed for weight initialisation and shuffling (training is deterministic on cpu/wasm for a given seed). */
        seed: z.number().int().default(1234),
      })
      .strict()
      .default({
        max_epochs: 40,
        batch_size: 512,
        learning_rate: 0.02,
        patience: 5,
        min_delta: 1e-4,
        validation_fraction: 0.15,
        threshold_fraction: 0.2,
        seed: 1234,
      }),
    threshold: ThresholdRuleConfig.default({ rule: 'quantile', quantile: 0.995, margin: 1.5 }),
    /**
     * Lower bound of every threshold (mean squared error over the features, robust-scaled log1p units): a window must
     * be off by at least this much, however regular the device's baseline. Chosen on tuning captures
     * (src/detect/README.md); stored in the model's metadata at training.
     */
    threshold_floor: z.number().nonnegative().default(2),
    /** Alert when the score (error ÷ threshold) is above 1 in at least `k` of the device's last `n` windows. */
    alert_k: z.number().int().positive().default(2),
    alert_n: z.number().int().positive().default(3),
    /**
     * What "the last N windows" means: `windows` (default) = the device's last N scored windows however far apart;
     * `time` = its windows that started within the last N window lengths of packet time (a device silent in some
     * windows has fewer to count). Measured on tuning captures (src/detect/README.md).
     */
    alert_n_span: z.enum(['time', 'windows']).default('windows'),
    /**
     * Rule guard beside the autoencoder: a window over the threshold in which the device both reached a never-seen peer
     * or destination port and had a TCP connection attempt rejected (RST) or left unanswered alerts on its own,
     * without waiting for K of N — what one probe of a slow scan looks like. false disables.
     */
    scan_guard: z.boolean().default(true),
    /**
     * Rule guard beside the autoencoder: a window over the threshold in which the device reached an external host that
     * its baseline never named (the model's `novelty.known_peers`), on a device whose baseline had at most
     * `novelty_guard_max_per_day` windows a day with a new external peer, alerts on its own — the first contact of a
     * slow beacon or of a new exfiltration destination does not wait for K of N. false disables.
     */
    novelty_guard: z.boolean().default(true),
    novelty_guard_max_per_day: z.number().nonnegative().default(1),
    /**
     * Rule guard beside the autoencoder: a window over the threshold in which the device's medical identity changed
     * (feature `identity_changes`: a new HL7 message type, sending application or equipment id, or a new DICOM AE
     * title it calls from, after its identity settled) alerts on its own. A change happens once (the next windows have
     * none), so K of N would never see it twice. false disables.
     */
    identity_guard: z.boolean().default(true),
    /**
     * One window scoring at least this much alerts on its own, without waiting for K of N: a 10-s flood fits in one
     * window. 0 disables. 20 (default) added no false alert on the tuning captures once thresholds have their floor
     * (before the floor it multiplied them: quiet devices' tiny thresholds let single resets score in the hundreds);
     * see src/detect/README.md.
     */
    alert_single_window_score: z.number().nonnegative().default(20),
    /**
     * Windows ending within this many seconds (packet time) of the first window the detector sees are scored but never
     * count toward an alert: at start the sensor's flow table and inventory are empty, so every peer and session looks
     * new. `wardwatch train` skips them at the start of a capture too. 0 disables.
     */
    startup_grace_s: z.number().nonnegative().default(300),
    /**
     * A window whose `capture_loss` (share of the sensor's packets libpcap dropped while it was open) is above this is
     * scored and written but abstains from the model's alerting: it neither opens, extends nor closes an incident
     * (K of N, scan and novelty guards, single-window score), because lost packets make traffic look different (a
     * lost SYN-ACK looks like an unanswered attempt, a lost SYN like a new destination port). The behavioural rules
     * still alert on it (what they count cannot be made up by missing packets), with a caveat in the summary.
     * 1 disables. See src/detect/README.md, "Capture loss".
     */
    capture_loss_max: z.number().min(0).max(1).default(0.01),
    /** A device without a model of its own stays in learning mode (no anomaly alerts) until it has this many baseline windows. */
    learning_min_windows: z.number().int().positive().default(360),
    /**
     * A class model is trained from this many baseline windows of the class's devices together (90 = three 5-min
     * split blocks, the fewest the train / validation / hold-out split can use). Low so that a device that sends rarely
     * and is alone in its class (a CT scanner: ~100 windows with traffic a day) gets a model: the devices in a class
     * model's baseline are scored by it at once. Its threshold is then usually the floor (`threshold_floor`).
     */
    class_model_min_windows: z.number().int().positive().default(90),
    /** A device gets a model of its own from this many baseline windows; below it the class model scores it. */
    device_model_min_windows: z.number().int().positive().default(2160),
    /**
     * Learning also ends by observed time: a device whose baseline windows span at least this long gets a model of
     * its own with as few as `quiet_device_min_windows` windows (a camera or a CT that sends in bursts), and a device
     * without a model leaves learning mode once it has been seen this long (then its class model, or the population
     * model, scores it). 0 disables.
     */
    learning_min_span_s: z.number().nonnegative().default(86_400),
    /** Fewest baseline windows for a quiet device's own model (see `learning_min_span_s`) and for the population model. */
    quiet_device_min_windows: z.number().int().min(10).default(30),
    /** Baseline-free behavioural detectors (src/detect/behaviour/config.ts): scans, floods, ARP spoofing, brute force, DNS tunnels, lateral movement, beaconing. */
    behaviour: BehaviourConfig.prefault({}),
    /** How often the detector checks the store for new model versions (0 = every batch). */
    reload_check_ms: z.number().int().nonnegative().default(5000),
    /**
     * At most this many `new_device` notices per `new_device_notice_interval_s` of packet time (intervals aligned to
     * multiples of it, by window start); the interval's further new devices are summarised in ONE notice when the
     * next interval starts (or at the end of a replay): "K more new devices …". A notice is only ever raised for a
     * device the inventory lists (confirmed: evidence of a real host, src/flows/device-inventory.ts). 0 = summaries
     * only.
     */
    new_device_notices_max: z.number().int().nonnegative().default(50),
    new_device_notice_interval_s: z.number().int().positive().default(60),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.alert_k > c.alert_n) {
      ctx.addIssue({ code: 'custom', path: ['alert_k'], message: `alert_k (${c.alert_k}) must be ≤ alert_n (${c.alert_n}); lower alert_k or raise alert_n` });
    }
    if (c.device_model_min_windows < c.learning_min_windows) {
      ctx.addIssue({
        code: 'custom',
        path: ['device_model_min_windows'],
        message: `device_model_min_windows (${c.device_model_min_windows}) must be ≥ learning_min_windows (${c.learning_min_windows})`,
      });
    }
    if (c.training.validation_fraction + c.training.threshold_fraction >= 0.6) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'validation_fraction'],
        message: 'validation_fraction + threshold_fraction must be < 0.6 so that most of the baseline is learned',
      });
    }
  });
export type DetectConfig = z.infer<typeof DetectConfig>;

/** Parse detect options (partial input, defaults filled in); throws ConfigError naming the field. */
export function parseDetectConfig(input: unknown = {}, prefix = 'detect'): DetectConfig {
  const r = DetectConfig.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = [prefix, ...(issue?.path ?? []).map(String)].join('.');
  throw new ConfigError(field, issue?.message ?? 'invalid');
}
