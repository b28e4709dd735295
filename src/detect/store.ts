/**
 * The model store: one directory per model scope and id, one immutable subdirectory per version.
 *
 *   models/
 *     GENERATION                    bumped on every save; the detector compares it to pick up new versions
 *     device/<id>/v3/model.json     TF.js topology + weights manifest (standard TF.js layers-model format)
 *     device/<id>/v3/weights.bin    TF.js weights
 *     device/<id>/v3/metadata.json  feature schema version, scaler, threshold, training range, samples, data hash, backend
 *     device/<id>/latest            "3"
 *     class/<device class>/v1/...
 *
 * `<id>` is the device id percent-encoded (`mac%3Aaa%3Abb...`); metadata.json keeps it verbatim.
 * Save and load go through TF.js IO handlers that this module implements on node:fs, so the store works without
 * tfjs-node (whose `file://` handler is not available on the wasm/cpu backends). A version directory is written under
 * a temporary name and renamed into place, and `latest` is replaced by rename, so a reader never sees half a model.
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { ModelError } from '../errors.js';
import type { DeviceClass } from '../records/index.js';
import type { AutoencoderShape, TrainReport, TrainSettings } from './autoencoder.js';
import type { ScalerState } from './scaler.js';
import type { ThresholdFit } from './threshold.js';

export const MODEL_FORMAT = 'wardwatch-baseline-autoencoder/1';

/**
 * What a model covers: one device; the devices of one class; or the population — every baseline device together, the
 * fallback for a device that has neither a model of its own nor one of its class (id `all`).
 */
export type ModelScope = { kind: 'device'; id: string } | { kind: 'class'; id: DeviceClass } | { kind: 'population'; id: 'all' };
export const MODEL_SCOPE_KINDS = ['device', 'class', 'population'] as const satisfies readonly ModelScope['kind'][];

export interface ModelMetadata {
  format: typeof MODEL_FORMAT;
  scope: ModelScope['kind'];
  id: string;
  version: number;
  /** `FEATURE_SCHEMA_VERSION` the model was trained on; windows of another version are refused. */
  feature_schema_version: number;
  feature_names: string[];
  scaler: ScalerState;
  threshold: ThresholdFit;
  architecture: AutoencoderShape;
  training: TrainSettings & { report: TrainReport };
  /** Packet-time range of the baseline windows (seconds since the epoch). */
  training_range: { start: number; end: number };
  samples: { total: number; train: number; validation: number; heldout: number; excluded_alerted: number };
  /** Devices whose windows were learned (one for a device model). */
  devices: string[];
  /**
   * Per learned device (device and class models): the peers its baseline windows named as new (`FeatureWindow.new_peers`,
   * ≤ `KNOWN_PEERS_MAX`), and how many baseline windows a day had a new external peer (counted from
   * `NOVELTY_SETTLE_S` after its first window: before it everything is new to the sensor). The novelty guard reads
   * them. Absent in models trained before 2026-12-07 (the guard then stays off for them).
   */
  novelty?: Record<string, { known_peers: string[]; new_external_windows_per_day: number }>;
  /** sha256 over the learned windows (device, window start, values): same data ⇒ same hash. */
  data_hash: string;
  /** TF.js backend the model was trained on. */
  backend: string;
  tfjs_version: string;
  created_at: string;
}

export interface StoredModelRef {
  scope: ModelScope['kind'];
  id: string;
  version: number;
}

export function modelLabel(ref: StoredModelRef): string {
  return `${ref.scope}:${ref.id}@v${ref.version}`;
}

/** A TF.js IOHandler reading and writing model.json + weights.bin in one directory with node:fs. */
export class DirectoryModelIO implements TF.io.IOHandler {
  constructor(readonly dir: string) {}

  async save(artifacts: TF.io.ModelArtifacts): Promise<TF.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) throw new ModelError('binary model topologies are not supported');
    const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: TF.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
    };
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, 'model.json'), JSON.stringify(modelJson));
    await writeFile(path.join(this.dir, 'weights.bin'), new Uint8Array(weights));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }

  async load(): Promise<TF.io.ModelArtifacts> {
    let modelJson: TF.io.ModelJSON;
    try {
      modelJson = JSON.parse(await readFile(path.join(this.dir, 'model.json'), 'utf8')) as TF.io.ModelJSON;
    } catch (err) {
      throw new ModelError(`${this.dir}/model.json: cannot read TF.js model (${(err as Error).message})`, { cause: err, code: 'WW_MODEL_CORRUPT' });
    }
    return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const specs: TF.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const b = await readFile(path.join(this.dir, path.basename(p)));
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        }
      }
      return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
    });
  }
}

async function writeFileAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

export class ModelStore {
  constructor(readonly dir: string) {}

  private scopeDir(kind: ModelScope['kind'], id: string): string {
    return path.join(this.dir, kind, encodeURIComponent(id));
  }

  /** Versions present for a scope, ascending. */
  async versions(kind: ModelScope['kind'], id: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.scopeDir(kind, id));
    } catch {
      return [];
    }
    return names
      .map((n) => /^v(\d+)$/.exec(n)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** The version `latest` points to, or undefined when the scope has no model. */
  async latestVersion(kind: ModelScope['kind'], id: string): Promise<number | undefined> {
    try {
      const v = Number((await readFile(path.join(this.scopeDir(kind, id), 'latest'), 'utf8')).trim());
      return Number.isInteger(v) && v > 0 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** Latest version of every model in the store. */
  async list(): Promise<StoredModelRef[]> {
    const out: StoredModelRef[] = [];
    for (const kind of MODEL_SCOPE_KINDS) {
      let ids: string[];
      try {
        ids = await readdir(path.join(this.dir, kind));
      } catch {
        continue;
      }
      for (const enc of ids) {
        const id = decodeURIComponent(enc);
        const version = await this.latestVersion(kind, id);
        if (version !== undefined) out.push({ scope: kind, id, version });
      }
    }
    return out;
  }

  /** Changes on every save (the detector's cheap "anything new?" check). Empty when nothing was ever saved. */
  async generation(): Promise<string> {
    try {
      return (await readFile(path.join(this.dir, 'GENERATION'), 'utf8')).trim();
    } catch {
      return '';
    }
  }

  /**
   * Save a trained model as the next version of its scope and point `latest` at it. `metadata.version` is assigned
   * here. Returns the stored reference.
   */
  async save(model: TF.LayersModel, metadata: Omit<ModelMetadata, 'version'>): Promise<StoredModelRef> {
    const base = this.scopeDir(metadata.scope, metadata.id);
    await mkdir(base, { recursive: true });
    const tmp = path.join(base, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    let version = ((await this.versions(metadata.scope, metadata.id)).at(-1) ?? 0) + 1;
    try {
      await model.save(new DirectoryModelIO(tmp));
      for (;;) {
        await writeFile(path.join(tmp, 'metadata.json'), JSON.stringify({ ...metadata, version }, null, 2) + '\n');
        try {
          await rename(tmp, path.join(base, `v${version}`));
          break;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          version++; // another trainer took this version number meanwhile
        }
      }
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw new ModelError(`cannot save model ${metadata.scope}:${metadata.id} to ${base}: ${(err as Error).message}`, { cause: err, code: 'WW_MODEL_STORE' });
    }
    await writeFileAtomic(path.join(base, 'latest'), `${version}\n`);
    await writeFileAtomic(path.join(this.dir, 'GENERATION'), `${Date.now()}-${process.pid}-${metadata.scope}:${metadata.id}@v${version}\n`);
    return { scope: metadata.scope, id: metadata.id, version };
  }

  /**
   * A version's metadata and files without loading the network (default: latest): what `wardwatch models` shows.
   * Throws ModelError when absent or corrupt.
   */
  async describe(kind: ModelScope['kind'], id: string, version?: number): Promise<{ metadata: ModelMetadata; dir: string; size_bytes: number }> {
    const v = version ?? (await this.latestVersion(kind, id));
    if (v === undefined) throw new ModelError(`no model for ${kind}:${id} in ${this.dir}`, { code: 'WW_MODEL_MISSING' });
    const versions = await this.versions(kind, id);
    if (!versions.includes(v)) throw new ModelError(`${kind}:${id} has no version ${v} in ${this.dir} (versions: ${versions.map((x) => `v${x}`).join(', ') || 'none'})`, { code: 'WW_MODEL_MISSING' });
    const dir = path.join(this.scopeDir(kind, id), `v${v}`);
    const metadata = await this.readMetadata(dir);
    let size_bytes = 0;
    for (const f of await readdir(dir)) size_bytes += (await stat(path.join(dir, f))).size;
    return { metadata, dir, size_bytes };
  }

  private async readMetadata(dir: string): Promise<ModelMetadata> {
    let metadata: ModelMetadata;
    try {
      metadata = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
    } catch (err) {
      throw new ModelError(`${dir}/metadata.json: cannot read (${(err as Error).message})`, { cause: err, code: 'WW_MODEL_CORRUPT' });
    }
    const format: unknown = metadata.format;
    if (format !== MODEL_FORMAT) {
      throw new ModelError(`${dir}: unknown model format ${String(format)} (expected ${MODEL_FORMAT})`, { code: 'WW_MODEL_CORRUPT' });
    }
    return metadata;
  }

  /** Load a version (default: latest). Throws ModelError when absent or corrupt. */
  async load(kind: ModelScope['kind'], id: string, version?: number): Promise<{ model: TF.LayersModel; metadata: ModelMetadata }> {
    const v = version ?? (await this.latestVersion(kind, id));
    if (v === undefined) throw new ModelError(`no model for ${kind}:${id} in ${this.dir}`, { code: 'WW_MODEL_MISSING' });
    const dir = path.join(this.scopeDir(kind, id), `v${v}`);
    const metadata = await this.readMetadata(dir);
    const model = await tf.loadLayersModel(new DirectoryModelIO(dir));
    return { model, metadata };
  }
}
