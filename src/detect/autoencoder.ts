/**
 * The autoencoder: a small dense network that learns to reconstruct a device's scaled feature vector through a
 * bottleneck. Windows like the baseline reconstruct well; a deviation (new ports, a flood, a DNS tunnel) does not,
 * and the per-feature reconstruction error says which features deviate.
 *
 * Training is a plain mini-batch loop (Adam, MSE) with a seeded shuffle, seeded initialisers and early stopping on a
 * validation split that restores the best epoch's weights — deterministic on the cpu and wasm backends for a seed.
 */
import type * as TF from '@tensorflow/tfjs';
import { tf } from './tf.js';

export interface AutoencoderShape {
  input_dim: number;
  hidden_units: number[];
  activation: 'relu' | 'elu' | 'tanh' | 'selu';
}

export interface TrainSettings {
  max_epochs: number;
  batch_size: number;
  learning_rate: number;
  patience: number;
  min_delta: number;
  seed: number;
}

export interface TrainReport {
  epochs_run: number;
  best_epoch: number;
  train_loss: number;
  val_loss: number;
  stopped_early: boolean;
  duration_ms: number;
}

/** mulberry32: a tiny seeded PRNG for shuffling (TF.js' own shuffle uses Math.random). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace(a: Int32Array | number[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}

export function buildAutoencoder(shape: AutoencoderShape, seed: number): TF.Sequential {
  const model = tf.sequential();
  const sizes = [...shape.hidden_units, ...shape.hidden_units.slice(0, -1).reverse()];
  sizes.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: shape.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [shape.input_dim] } : {}),
      }),
    );
  });
  model.add(
    tf.layers.dense({
      units: shape.input_dim,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + sizes.length }),
    }),
  );
  return model;
}

/** Mean squared reconstruction error of a whole matrix (for validation loss). */
function meanLoss(model: TF.LayersModel, x: TF.Tensor2D): number {
  return tf.tidy(() => {
    const recon = model.predict(x, { batchSize: 4096 }) as TF.Tensor;
    return tf.losses.meanSquaredError(x, recon).dataSync()[0] as number;
  });
}

/**
 * Train on scaled rows `train` (n × d, row-major) with early stopping on `val`. Returns the report; the model keeps the
 * weights of the best validation epoch.
 */
export function trainAutoencoder(
  model: TF.LayersModel,
  train: Float32Array,
  val: Float32Array,
  d: number,
  s: TrainSettings,
): TrainReport {
  const t0 = performance.now();
  const n = train.length / d;
  const xTrain = tf.tensor2d(train, [n, d]);
  const xVal = tf.tensor2d(val, [val.length / d, d]);
  const optimizer = tf.train.adam(s.learning_rate);
  const rand = seededRandom(s.seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights: TF.Tensor[] | undefined;
  let sinceBest = 0;
  let epochs = 0;
  let trainLoss = NaN;
  try {
    for (let epoch = 0; epoch < s.max_epochs; epoch++) {
      shuffleInPlace(order, rand);
      const idx = tf.tensor1d(order, 'int32');
      const shuffled = tf.gather(xTrain, idx);
      idx.dispose();
      let lossSum: TF.Tensor = tf.scalar(0);
      for (let start = 0; start < n; start += s.batch_size) {
        const size = Math.min(s.batch_size, n - start);
        const next = tf.tidy(() => {
          const xb = shuffled.slice([start, 0], [size, d]);
          const loss = optimizer.minimize((): TF.Scalar => {
            const recon = model.apply(xb, { training: true }) as TF.Tensor;
            return tf.losses.meanSquaredError(xb, recon).asScalar();
          }, true);
          return loss === null ? lossSum.clone() : lossSum.add(loss.mul(size));
        });
        lossSum.dispose();
        lossSum = next;
      }
      shuffled.dispose();
      trainLoss = (lossSum.dataSync()[0] as number) / n;
      lossSum.dispose();
      epochs = epoch + 1;
      const valLoss = meanLoss(model, xVal);
      if (valLoss < best - s.min_delta) {
        best = valLoss;
        bestEpoch = epoch;
        sinceBest = 0;
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = model.getWeights().map((w) => w.clone());
      } else if (++sinceBest > s.patience) {
        break;
      }
    }
    if (bestWeights !== undefined) model.setWeights(bestWeights);
  } finally {
    bestWeights?.forEach((w) => w.dispose());
    xTrain.dispose();
    xVal.dispose();
    optimizer.dispose();
  }
  return {
    epochs_run: epochs,
    best_epoch: bestEpoch + 1,
    train_loss: trainLoss,
    val_loss: best,
    stopped_early: epochs < s.max_epochs,
    duration_ms: performance.now() - t0,
  };
}

/**
 * Reconstruct scaled rows in batches. Returns the reconstruction (n × d, row-major) — errors are computed by the
 * caller in JS, which needs the per-feature squared errors anyway for explanations.
 */
export function reconstruct(model: TF.LayersModel, x: Float32Array, d: number, batchSize = 8192): Float32Array {
  const n = x.length / d;
  const out = new Float32Array(x.length);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const chunk = x.subarray(start * d, (start + size) * d);
    const recon = tf.tidy(() => model.predict(tf.tensor2d(chunk, [size, d]), { batchSize: size }) as TF.Tensor);
    out.set(recon.dataSync(), start * d);
    recon.dispose();
  }
  return out;
}

/** Per-row mean squared error between x and its reconstruction. */
export function rowErrors(x: Float32Array, recon: Float32Array, d: number): Float64Array {
  const n = x.length / d;
  const err = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const e = (x[base + j] as number) - (recon[base + j] as number);
      s += e * e;
    }
    err[i] = s / d;
  }
  return err;
}
