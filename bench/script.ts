import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs `main` when the module at `moduleUrl` (its `import.meta.url`) is the script node was started with, so a
 * benchmark module can be imported by `bench/run.ts` and also run alone (`node dist/bench/kafka.js`). Exits 0 on
 * success, prints the error and exits 1 otherwise.
 */
export function runAsScript(moduleUrl: string, main: () => Promise<void>): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
