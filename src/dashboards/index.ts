/** Grafana dashboards as code: see docs/dashboards.md. */
export * from './influxql.js';
export * from './panels.js';
export * from './dashboards.js';
export * from './provisioning.js';
