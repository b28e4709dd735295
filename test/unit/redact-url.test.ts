/**
 * Secrets in URLs never reach a log line or a dead-letter record: `redactUrl` keeps the scheme and host only (a Slack
 * or Teams webhook URL is itself the secret; an InfluxDB URL may carry credentials). And the InfluxDB writer takes
 * credentials from its URL when the options give none, while its log lines and errors show the redacted form.
 */
import assert from 'node:assert/strict';
import { redactUrl } from '../../src/log.js';
import { InfluxWriter } from '../../src/sinks/influx/writer.js';

describe('redactUrl', () => {
  it('keeps scheme, host and port; replaces credentials, path and query', () => {
    assert.equal(redactUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET'), 'https://hooks.slack.com/[redacted]');
    assert.equal(redactUrl('http://admin:s3cret@influx.ward:8086'), 'http://[redacted]@influx.ward:8086');
    assert.equal(redactUrl('http://influx.ward:8086/'), 'http://influx.ward:8086');
    assert.equal(redactUrl('https://pager.example/v2/enqueue?token=abc'), 'https://pager.example/[redacted]?[redacted]');
    assert.equal(redactUrl('not a url, maybe a secret'), '[redacted]');
  });

  it("the InfluxDB writer names its target without the URL's credentials", async () => {
    // Port 9 (discard): nothing answers; the first attempt's error is enough.
    const w = new InfluxWriter({ url: 'http://admin:s3cret@127.0.0.1:9', database: 'x', timeout_ms: 200, retry: { retries: 0, initial_delay_ms: 1, max_delay_ms: 1, multiplier: 1, jitter: 0 } });
    const err = await w.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    w.abort?.();
    assert.ok(err, 'start() fails against a closed port');
    assert.ok(!err.message.includes('s3cret') && !err.message.includes('admin'), err.message);
    assert.match(err.message, /\[redacted\]@127\.0\.0\.1:9/);
  });
});
