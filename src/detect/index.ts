/**
 * The detect stage's public API (what the pipeline and the CLI call). See src/detect/README.md.
 */
export { selectBackend, selectBackendFor, probeTfjsNode, type BackendStatus, type BackendName } from './backend.js';
export { DetectConfig, parseDetectConfig, type ThresholdRuleConfig } from './config.js';
export { Detector, type InventoryLookup, type DeviceStatus } from './detector.js';
export { BaselineModel, type BatchScores } from './model.js';
export { ModelStore, modelLabel, type ModelMetadata, type ModelScope, type StoredModelRef } from './store.js';
export { Trainer, alertedRangesFromAlerts, planTraining, type AlertedRange, type TrainOptions, type TrainResult, type TrainingJob } from './trainer.js';
export { evaluateDetections, rocAuc, type AttackLabel, type AttackReport, type EvaluationOptions, type EvaluationReport, type KindReport, type ScoredWindow } from './evaluate.js';
