/** The Grafana expansion rules the dashboard proof relies on (test/support/dashboard-proof.ts). */
import assert from 'node:assert/strict';
import { escapeRegex, expandQuery, expectedColumns, grafanaInterval } from '../support/dashboard-proof.js';

describe('dashboard proof: Grafana-style query expansion', () => {
  const ctx = (vars: Record<string, string[]>) => ({ timeFilter: 'time >= now() - 6h', from: 1000, to: 2000, interval: '20s', vars: new Map(Object.entries(vars)) });

  it('expands $timeFilter, ${__from}, $__interval and regex variables (one value escaped, several as a group)', () => {
    const q = 'SELECT mean("x") FROM "m" WHERE $timeFilter AND "device" =~ /^$device$/ AND "sensor" =~ /^$sensor$/ AND "t" >= ${__from} GROUP BY time($__interval)';
    assert.equal(
      expandQuery(q, ctx({ device: ['ip:10.1.2.3'], sensor: ['a', 'b.c'] })),
      'SELECT mean("x") FROM "m" WHERE time >= now() - 6h AND "device" =~ /^ip:10\\.1\\.2\\.3$/ AND "sensor" =~ /^(a|b\\.c)$/ AND "t" >= 1000 GROUP BY time(20s)',
    );
  });

  it('refuses unknown variables and variables outside a regex', () => {
    assert.throws(() => expandQuery('SELECT "x" FROM "m" WHERE "d" =~ /^$nope$/', ctx({})), /not a variable/);
    assert.throws(() => expandQuery(`SELECT "x" FROM "m" WHERE "d" = '$device'`, ctx({ device: ['a'] })), /outside a \/regex\//);
  });

  it('escapes regex metacharacters like Grafana', () => {
    assert.equal(escapeRegex('a.b(c)|d*'), 'a\\.b\\(c\\)\\|d\\*');
  });

  it('computes $__interval from range, max data points and the min interval', () => {
    assert.equal(grafanaInterval(6 * 3_600_000, 1000, 10_000), '20s');
    assert.equal(grafanaInterval(3_600_000, 1000, 10_000), '10s');
    assert.equal(grafanaInterval(7 * 86_400_000, 1000, 10_000), '10m');
  });

  it('names the columns a query returns', () => {
    assert.deepEqual(expectedColumns('SELECT last("a") AS "x", "b", mean(/^(c|d)$/) FROM (SELECT 1 AS "y" FROM "m" GROUP BY "z") GROUP BY time(1m), "dev" fill(null)'), {
      names: ['x', 'b'],
      prefixes: ['mean_'],
      tags: ['dev'],
      byTime: true,
    });
  });
});
