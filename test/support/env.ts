/**
 * Imported first by the root hooks: test runs log at `silent` unless WARDWATCH_LOG_LEVEL says otherwise, so that
 * expected errors (a broker killed on purpose) do not bury the test report.
 */
process.env['WARDWATCH_LOG_LEVEL'] ??= 'silent';
export {};
