/** Issue 22 item 6: one vocabulary for incidents and alert records, counted one way for console, report and README. */
import assert from 'node:assert/strict';
import { incidentCounts, incidentSummary, type Alert } from '../../src/records/alert.js';

const rec = (alert_id: string, kind: Alert['kind'], ts: number): Pick<Alert, 'alert_id' | 'kind' | 'ts'> => ({ alert_id, kind, ts });

describe('incidents and alert records', () => {
  it('an incident is one alert id; its later records are updates; a redelivered record counts once', () => {
    const c = incidentCounts([
      rec('a', 'anomaly', 10),
      rec('a', 'anomaly', 20), // update: escalated
      rec('a', 'anomaly', 20), // redelivered
      rec('b', 'port_scan', 10),
      rec('c', 'new_device', 5),
      rec('d', 'anomaly', 30),
    ]);
    assert.deepEqual(c, { incidents: 4, anomaly: 2, behavioural: 1, new_device: 1, records: 5, updates: 1 });
    assert.equal(incidentSummary(c), '4 incidents (2 anomaly, 1 behavioural, 1 new-device notice) in 5 alert records (1 update)');
  });
  it('none', () => {
    assert.equal(incidentSummary(incidentCounts([])), '0 incidents (0 anomaly, 0 behavioural, 0 new-device notices) in 0 alert records (0 updates)');
  });
});
