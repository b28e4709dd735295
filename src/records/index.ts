export * from './packet.js';
export * from './flow.js';
export * from './device.js';
export * from './features.js';
export * from './alert.js';
export * from './health.js';
