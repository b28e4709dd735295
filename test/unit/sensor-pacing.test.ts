import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { replayPacer } from '../../src/compose/pacing.js';

describe('sensor file replay pace (SensorSource.speed)', () => {
  it('reads frames before speed_from at full speed, then waits until the wall clock reaches packet time ÷ speed', async () => {
    const pace = replayPacer(2, 1000);
    assert.equal(pace(900), undefined, 'before speed_from: no wait');
    assert.equal(pace(999.9), undefined);
    const t0 = performance.now();
    assert.equal(pace(1000), undefined, 'the first paced frame sets the clock: no wait');
    assert.equal(pace(1000.001), undefined, 'due within 1 ms: no timer');
    const wait = pace(1000.4); // 0.4 s of packet time at 2x: due 200 ms after the first paced frame
    assert.ok(wait instanceof Promise);
    await wait;
    const waited = performance.now() - t0;
    assert.ok(waited >= 198 && waited < 400, `waited ${waited.toFixed(1)} ms`);
    assert.equal(pace(1000.3), undefined, 'a frame already due (out of order, or late) does not wait');
  });

  it('at 1x a second of packet time is a second of wall clock', async () => {
    const pace = replayPacer(1, -Infinity);
    const t0 = performance.now();
    assert.equal(pace(50), undefined);
    await pace(50.1);
    await pace(50.25);
    const waited = performance.now() - t0;
    assert.ok(waited >= 248 && waited < 450, `waited ${waited.toFixed(1)} ms`);
  });
});
