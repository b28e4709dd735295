/**
 * Issue 22 item 3: logs for people at a terminal, JSON for services. `textLogLine` is what a text-format line looks
 * like; `configureLogging` picks level and format from the option, the environment, then the command's kind.
 */
import assert from 'node:assert/strict';
import { configureLogging, rootLogger, textLogLine } from '../../../src/log.js';

describe('logging: text for people, JSON for services', () => {
  const before = { level: rootLogger.level };
  after(() => {
    configureLogging({ service: true, level: before.level, format: 'json' }, {});
  });

  it('a JSON log line as one text line: level, component, message, the other fields', () => {
    const line = JSON.stringify({ level: 40, time: 1, pid: 2, hostname: 'h', name: 'wardwatch', component: 'influx-writer', database: 'ww', rejected: 12, msg: 'points refused' });
    assert.equal(textLogLine(line), 'wardwatch: warn: influx-writer: points refused (database=ww rejected=12)\n');
  });

  it('quotes values with spaces, shows an error by its message, and does not repeat what the message says', () => {
    const line = JSON.stringify({ level: 50, component: 'cli', models_dir: '/srv/models', reason: 'not found here', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n  at x' }, msg: 'no models in /srv/models' });
    assert.equal(textLogLine(line), 'wardwatch: error: cli: no models in /srv/models (reason="not found here" err="boom")\n');
  });

  it('shows control characters from the wire as ? (a hostile DHCP host name cannot drive the terminal)', () => {
    const line = JSON.stringify({ level: 30, component: 'flows', host: 'pump\u001b[2J', msg: 'new device \u001b]0;x\u0007' });
    const text = textLogLine(line);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(text.slice(0, -1), /[\u0000-\u001f]/);
    assert.equal(text, 'wardwatch: info: flows: new device ?]0;x? (host=pump?[2J)\n');
  });

  it('defaults: warn and text for commands, info and JSON for services; the environment, then the options win', () => {
    assert.deepEqual(configureLogging({ service: false }, {}), { level: 'warn', format: 'text' });
    assert.equal(rootLogger.level, 'warn');
    assert.equal(rootLogger.child({ component: 'x' }).isLevelEnabled('info'), false, 'children follow the root');
    assert.deepEqual(configureLogging({ service: true }, {}), { level: 'info', format: 'json' });
    assert.deepEqual(configureLogging({ service: false }, { WARDWATCH_LOG_LEVEL: 'debug', WARDWATCH_LOG_FORMAT: 'json' }), { level: 'debug', format: 'json' });
    assert.deepEqual(configureLogging({ service: true, level: 'error', format: 'text' }, { WARDWATCH_LOG_LEVEL: 'debug', WARDWATCH_LOG_FORMAT: 'json' }), { level: 'error', format: 'text' });
  });

  it('a wrong level or format names where it came from', () => {
    assert.throws(() => configureLogging({ service: false }, { WARDWATCH_LOG_LEVEL: 'loud' }), /WARDWATCH_LOG_LEVEL: 'loud' is not a log level: use one of fatal, error, warn, info, debug, trace, silent/);
    assert.throws(() => configureLogging({ service: false, format: 'yaml' }, {}), /--log-format: 'yaml' is not a log format: use text or json/);
  });
});
