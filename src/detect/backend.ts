/**
 * TF.js backend selection. `auto` tries tfjs-node first (a dynamic import: it is an optional native package that is
 * not a dependency), and falls back to the pure-JS backend the benchmark (bench/model.ts) found faster for the job:
 * WASM (SIMD, loaded from the installed @tensorflow/tfjs-backend-wasm/dist, never from the network) or CPU.
 * The active backend is logged and returned so callers can report it (model metadata, `wardwatch` status).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf, tfWasm } from './tf.js';

const { setWasmPaths } = tfWasm;
import { ModelError } from '../errors.js';
import { componentLogger } from '../log.js';
import type { BackendChoice } from './config.js';

const log = componentLogger('detect-backend');

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendJob = 'train' | 'score';

export interface BackendStatus {
  /** Backend now active in TF.js (`tensorflow` is tfjs-node). */
  active: BackendName;
  requested: BackendChoice;
  job: BackendJob;
  /** Whether tfjs-node could be loaded, and why not when it could not. */
  tfjs_node: { available: boolean; reason: string };
}

let tfjsNodeProbe: Promise<{ available: boolean; reason: string }> | undefined;
let wasmPathsSet = false;

/** Try to load @tensorflow/tfjs-node once. It registers the `tensorflow` backend on import. */
export function probeTfjsNode(): Promise<{ available: boolean; reason: string }> {
  tfjsNodeProbe ??= (async () => {
    const specifier = '@tensorflow/tfjs-node';
    try {
      await import(specifier);
      if (tf.findBackend('tensorflow') === null && tf.findBackendFactory('tensorflow') === null) {
        return { available: false, reason: 'loaded, but it registered no "tensorflow" backend on this tfjs-core (version mismatch?)' };
      }
      return { available: true, reason: 'installed' };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const reason =
        code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
          ? 'not installed (npm install @tensorflow/tfjs-node for native speed)'
          : `failed to load: ${(err as Error).message}`;
      return { available: false, reason };
    }
  })();
  return tfjsNodeProbe;
}

/** Directory holding the tfjs-backend-wasm .wasm binaries, as a file path ending in '/'. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  // main resolves to .../tfjs-backend-wasm/dist/<bundle>.js; the .wasm files sit beside it.
  return path.dirname(main) + path.sep;
}

async function activate(name: BackendName): Promise<boolean> {
  // Production mode: skips TF.js debug checks and its console banner suggesting tfjs-node (we log the backend instead).
  tf.enableProdMode();
  if (name === 'wasm' && !wasmPathsSet) {
    // In Node the emscripten loader reads the file with fs when the prefix is a plain path (not a URL).
    setWasmPaths(wasmBinaryDir());
    wasmPathsSet = true;
  }
  if (tf.getBackend() === name) return true;
  const ok = await tf.setBackend(name);
  await tf.ready();
  return ok && tf.getBackend() === name;
}

/** Backends already logged as active (backend/choice/job). */
const announced = new Set<string>();

/**
 * Make `choice` the active backend for `job`. `auto` prefers tfjs-node, then the configured per-job fallback.
 * An explicit choice that cannot be activated is a ModelError (WW_MODEL_BACKEND), not a silent fallback.
 */
export async function selectBackend(
  choice: BackendChoice,
  job: BackendJob,
  fallback: { train: 'wasm' | 'cpu'; score: 'wasm' | 'cpu' } = { train: 'wasm', score: 'wasm' },
): Promise<BackendStatus> {
  const node = await probeTfjsNode();
  let active: BackendName;
  if (choice === 'tfjs-node') {
    if (!node.available) throw new ModelError(`backend tfjs-node requested but @tensorflow/tfjs-node is ${node.reason}`, { code: 'WW_MODEL_BACKEND' });
    active = 'tensorflow';
  } else if (choice === 'auto') {
    active = node.available ? 'tensorflow' : fallback[job];
  } else {
    active = choice;
  }
  if (!(await activate(active))) {
    throw new ModelError(`TF.js backend "${active}" could not be initialised`, { code: 'WW_MODEL_BACKEND' });
  }
  const status: BackendStatus = { active, requested: choice, job, tfjs_node: node };
  // Once per backend and job: a command selects it where it starts and again where it scores.
  const said = `${active}/${choice}/${job}`;
  if (!announced.has(said)) {
    announced.add(said);
    log.info({ backend: active, requested: choice, job, tfjs_node: node.available, tfjs_node_reason: node.reason }, 'TF.js backend active');
  }
  return status;
}

/** Currently active backend name (after `selectBackend`). */
export function activeBackend(): string {
  return tf.getBackend();
}


/** `selectBackend` with the per-job fallbacks from the detect config. */
export function selectBackendFor(
  config: { backend: BackendChoice; auto_train_backend: 'wasm' | 'cpu'; auto_score_backend: 'wasm' | 'cpu' },
  job: BackendJob,
): Promise<BackendStatus> {
  return selectBackend(config.backend, job, { train: config.auto_train_backend, score: config.auto_score_backend });
}
