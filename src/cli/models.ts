/**
 * `wardwatch models list | show <device-or-class>`: what the model store holds (src/detect/store.ts), read from each
 * version's metadata.json without loading the networks.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { Topology } from '../compose/topology.js';
import { ConfigError, ModelError } from '../errors.js';
import { SHIPPED_MODELS_DIR } from '../detect/config.js';
import { ModelStore, modelLabel, type ModelMetadata, type ModelScope } from '../detect/index.js';
import { textTable, utc } from './table.js';


interface ModelsCliOptions {
  config?: string;
  modelsDir?: string;
}

/** The store of --models-dir, else the one run and replay score with (`Topology.scoringStore`). */
async function openStore(o: ModelsCliOptions): Promise<ModelStore> {
  const dir = o.modelsDir ?? (await Topology.load(o.config).scoringStore(true)).models_dir;
  if (!existsSync(dir)) throw new ModelError(`${dir}: no model store (train one with \`wardwatch train\`, or point --models-dir / detect.models_dir at one)`, { code: 'WW_MODEL_MISSING' });
  return new ModelStore(dir);
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}

function range(m: ModelMetadata): string {
  return `${utc(m.training_range.start)} .. ${utc(m.training_range.end)}`;
}

function sig(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

/** A model scope from `mac:..`, `class:infusion_pump`, `device:mac:..` or a bare class name. */
async function resolve(store: ModelStore, query: string): Promise<{ kind: ModelScope['kind']; id: string }> {
  const m = /^(device|class):(.+)$/.exec(query);
  const candidates: { kind: ModelScope['kind']; id: string }[] = m ? [{ kind: m[1] as ModelScope['kind'], id: m[2]! }] : [{ kind: 'device', id: query }, { kind: 'class', id: query }, { kind: 'population', id: query }];
  for (const c of candidates) if ((await store.latestVersion(c.kind, c.id)) !== undefined) return c;
  throw new ModelError(`${query}: no model in ${store.dir} (give a device id such as mac:00:09:fb:2a:d1:15 or a class such as infusion_pump; \`wardwatch models list\` shows them)`, { code: 'WW_MODEL_MISSING' });
}

export function modelsCommand(): Command {
  const cmd = new Command('models')
    .description('The baseline models in the model store (--models-dir, else detect.models_dir, default out/models, or the shipped demo models while that holds none): versions, samples, thresholds.')
    .addHelpText('after', '\nExamples:\n  wardwatch models list\n  wardwatch models show infusion_pump\n  wardwatch models show mac:00:09:fb:2a:d1:15 --version 1\n  wardwatch models list --models-dir /var/lib/wardwatch/models\n');
  const common = (c: Command): Command =>
    c.option('-c, --config <file>', 'YAML configuration (detect.models_dir says where the store is)').option('--models-dir <dir>', 'model store (overrides detect.models_dir)');
  cmd.addCommand(
    common(new Command('list').description('The latest version of every model: kind, versions, samples, threshold, training range, feature schema, backend, size.'))
      .addHelpText('after', '\nExamples:\n  wardwatch models list\n  wardwatch models list --models-dir out/models\n')
      .action(async (o: ModelsCliOptions) => {
        const store = await openStore(o);
        const refs = (await store.list()).sort((a, b) => a.scope.localeCompare(b.scope) || a.id.localeCompare(b.id));
        if (refs.length === 0) {
          process.stdout.write(`No models in ${store.dir}.\n`);
          return;
        }
        const rows: string[][] = [];
        for (const ref of refs) {
          const { metadata: md, size_bytes } = await store.describe(ref.scope, ref.id, ref.version);
          const versions = (await store.versions(ref.scope, ref.id)).length;
          rows.push([ref.scope, ref.id, `v${ref.version}${versions > 1 ? ` (${versions})` : ''}`, md.samples.total.toLocaleString('en-US'), sig(md.threshold.value), range(md), `v${md.feature_schema_version}`, md.backend, kb(size_bytes)]);
        }
        process.stdout.write(textTable(['kind', 'model', 'version', 'samples', 'threshold', 'training range (UTC)', 'schema', 'backend', 'size'], rows, [3, 4, 8]));
        const shipped = path.resolve(store.dir) === SHIPPED_MODELS_DIR ? ' (the shipped demo models)' : '';
        process.stdout.write(`${refs.length} model${refs.length === 1 ? '' : 's'} in ${store.dir}${shipped}\n`);
      }),
  );
  cmd.addCommand(
    common(
      new Command('show')
        .description('One model in full: metadata of its latest version, or of the version given as @vN (alerts name models this way).')
        .argument('<device-or-class>', 'device id (mac:..), class name, device:/class: prefixed, optionally @vN'),
    )
      .addHelpText('after', '\nExamples:\n  wardwatch models show infusion_pump\n  wardwatch models show class:patient_monitor@v1     # as an alert\'s model field names it\n  wardwatch models show mac:00:09:fb:2a:d1:15\n')
      .action(async (query: string, o: ModelsCliOptions) => {
        const store = await openStore(o);
        const at = /^(.*)@(.*)$/.exec(query);
        let version: number | undefined;
        if (at) {
          const digits = /^v?(\d+)$/.exec(at[2]!)?.[1];
          version = Number(digits);
          if (digits === undefined || version < 1) throw new ConfigError('<device-or-class>', `'${query}': the version after @ must be a number such as @v2`);
        }
        const scope = await resolve(store, at ? at[1]! : query);
        const { metadata: md, dir, size_bytes } = await store.describe(scope.kind, scope.id, version);
        const versions = await store.versions(scope.kind, scope.id);
        const t = md.threshold;
        const r = md.training.report;
        const rows: [string, string][] = [
          ['model', modelLabel({ scope: md.scope, id: md.id, version: md.version })],
          ['kind', md.scope === 'device' ? 'device (one device\'s own baseline)' : 'class (shared by the devices of a class without their own model)'],
          ['versions', `${versions.map((v) => `v${v}`).join(', ')} (latest v${(await store.latestVersion(scope.kind, scope.id)) ?? '?'})`],
          ['directory', `${dir} (${kb(size_bytes)})`],
          ['feature schema', `v${md.feature_schema_version} (${md.feature_names.length} features)`],
          ['samples', `${md.samples.total} windows: ${md.samples.train} train, ${md.samples.validation} validation, ${md.samples.heldout} held out; ${md.samples.excluded_alerted} excluded as alerted`],
          ['training range (UTC)', range(md)],
          ['threshold', `${sig(t.value)} (${t.rule.rule}${t.rule.rule === 'quantile' ? ` ${t.rule.quantile} x ${t.rule.margin}` : ''}, on ${t.heldout_windows} held-out windows)`],
          ['held-out error', `median ${sig(t.heldout_error.median)}, p95 ${sig(t.heldout_error.p95)}, p99 ${sig(t.heldout_error.p99)}, max ${sig(t.heldout_error.max)}`],
          ['architecture', `${md.architecture.input_dim} -> ${md.architecture.hidden_units.join(' -> ')} -> ${md.architecture.input_dim} (${md.architecture.activation})`],
          ['training', `${r.epochs_run} epochs (best ${r.best_epoch}${r.stopped_early ? ', stopped early' : ''}), train loss ${sig(r.train_loss)}, validation loss ${sig(r.val_loss)}, ${(r.duration_ms / 1000).toFixed(1)} s`],
          ['backend', `${md.backend} (TF.js ${md.tfjs_version})`],
          ['devices', `${md.devices.length}: ${md.devices.slice(0, 12).join(', ')}${md.devices.length > 12 ? ', ...' : ''}`],
          ['data hash', md.data_hash],
          ['created', md.created_at],
        ];
        const w = Math.max(...rows.map(([k]) => k.length));
        process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n');
      }),
  );
  return cmd;
}
