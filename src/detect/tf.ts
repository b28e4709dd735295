/**
 * TensorFlow.js, loaded once through `require`: tfjs ships CommonJS bundles of several MB, and an ESM `import` of them
 * makes Node pre-parse each bundle for its named exports (cjs-module-lexer, measured ~0.25 s of CPU at every start of
 * `wardwatch run`); `require` loads the same modules without it. Types are those of the ES module.
 */
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import type * as TFWasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

export const tf = require('@tensorflow/tfjs') as typeof TF;
export const tfWasm = require('@tensorflow/tfjs-backend-wasm') as typeof TFWasm;
