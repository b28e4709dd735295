/** Every benchmark module, in the order BENCHMARKS.md lists them. Add one import per new benchmark. */
import './decode.bench.js';
import './flows.bench.js';
import './kafka.bench.js';
import './model.bench.js';
import './run.bench.js';
import './live.bench.js';
import './threads.bench.js';
