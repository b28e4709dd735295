/**
 * Mocha root hooks. Services (Kafka, InfluxDB) are started on demand by the tests that need them
 * (test/support/services.ts); at the end of the run this stops what the run itself started when in CI
 * (or when WARDWATCH_STOP_SERVICES=1), so no process outlives the CI job. Locally they stay up for the next run.
 */
import './env.js';
import { stopServicesStartedHere } from './services.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopServicesStartedHere();
  },
};
