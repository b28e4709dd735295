/**
 * `npm run services:up|status|down [kafka|influxdb]`: the local Kafka broker and InfluxDB the tests use.
 * Idempotent: `up` reuses running instances, `down` is a no-op when nothing runs. Logs: .cache/services/<name>/service.log.
 */
import { isAlive, logPath, readState } from './common.js';
import { DEFAULT_KAFKA, kafkaReady, startKafka, stopKafka } from './kafka.js';
import { DEFAULT_INFLUX, influxReady, influxUrl, startInflux, stopInflux } from './influxdb.js';

type Name = 'kafka' | 'influxdb';
const ALL: Name[] = ['kafka', 'influxdb'];

async function status(name: Name): Promise<string> {
  const state = readState(name === 'kafka' ? DEFAULT_KAFKA.instance : DEFAULT_INFLUX.instance);
  const ready = name === 'kafka' ? await kafkaReady() : await influxReady();
  const where = name === 'kafka' ? `${DEFAULT_KAFKA.host}:${DEFAULT_KAFKA.port}` : influxUrl();
  const proc = state ? `pid ${state.pid} ${isAlive(state.pid) ? 'alive' : 'dead'}` : 'not started by wardwatch';
  return `${name.padEnd(9)} ${ready ? 'ready' : 'down '}  ${where}  (${proc}; log ${logPath(name)})`;
}

async function main(): Promise<number> {
  const [verb, ...rest] = process.argv.slice(2);
  const names = (rest.length ? rest : ALL) as Name[];
  for (const n of names) {
    if (!ALL.includes(n)) {
      console.error(`unknown service '${n}': expected one of ${ALL.join(', ')}`);
      return 2;
    }
  }
  const log = (msg: string): void => console.error(msg);
  switch (verb) {
    case 'up':
      for (const n of names) {
        const t0 = Date.now();
        if (n === 'kafka') await startKafka({}, log);
        else await startInflux({}, log);
        console.log(`${n} up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      for (const n of names) console.log(await status(n));
      return 0;
    case 'down':
      for (const n of names) {
        const stopped = n === 'kafka' ? await stopKafka() : await stopInflux();
        console.log(`${n} ${stopped ? 'stopped' : 'was not running'}`);
      }
      return 0;
    case 'status': {
      let allReady = true;
      for (const n of names) {
        const line = await status(n);
        if (!line.includes(' ready ')) allReady = false;
        console.log(line);
      }
      return allReady ? 0 : 1;
    }
    default:
      console.error('usage: services.js up|status|down [kafka|influxdb ...]');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
