/** Hospital network simulator: public API. */
export { simulate, simulateSync, defaultLabelsPath, type SimulateSummary } from './simulate.js';
export { DEFAULTS, DEFAULT_DEVICES, parseAttack, parseDevices, parseDuration, parseStart, formatAttack, type AttackSpec, type SimulateOptions } from './options.js';
export {
  ATTACKS,
  ATTACK_ALIASES,
  BEACON_PERIOD_S,
  IDENTITY_SPOOF_AE_TITLE,
  IDENTITY_SPOOF_HL7_EVENTS,
  IDENTITY_SPOOF_IMPLEMENTATION,
  LATERAL_PORTS,
  OBSERVED_SPAN_KINDS,
  SLOW_EXFIL_BYTES,
} from './attacks.js';
export {
  QUIET,
  hl7Sender,
  imagingModality,
  labSpeaksHl7,
  modalityAeTitle,
  pacsAeTitle,
  pacsOf,
  readingAeTitle,
  telemetryClientId,
  MODALITY_WORKLIST_SOP,
  PACS_PUSH_SOP,
  READING_QUERY_SOP,
  type Hl7Sender,
} from './behaviours.js';
export { ARCHETYPES, ARCHETYPE_ORDER, ROUTER_OUI, SERVER_OUIS, INTRUDER_OUI } from './hospital.js';
export * from './labels.js';
export { simulateCommand, toSimulateOptions } from './command.js';
