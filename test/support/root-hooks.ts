/**
 * Mocha root hooks. Services (Kafka, InfluxDB) are started on demand by the tests that need them
 * (`test/support/services.ts`); this hook only stops, at the end of the run, what the suite itself started when
 * running in CI (or when WARDWATCH_STOP_SERVICES=1), so that no process outlives the CI job.
 */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    // Filled in by the services module once it exists.
  },
};
