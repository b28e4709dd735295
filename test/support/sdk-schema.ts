/**
 * Strict validation of dashboard JSON against the Grafana foundation SDK's own TypeScript types.
 *
 * The SDK (0.0.21, TypeScript) has no runtime unmarshal/validate, but its generated `.d.ts` files are Grafana's
 * dashboard schema (generated from the CUE kinds). This loads them with the TypeScript compiler API and walks a JSON
 * value alongside a declared type: every key must be a property the type declares (or match its index signature),
 * every required property must be present, and every value must fit the property's type — string/number/boolean,
 * enum and literal members, arrays, unions (some member must fit), nested interfaces. `any` slots of the dashboard
 * schema are resolved to the type Grafana uses for them:
 *  - `panel.options` → `<plugin>.Options` of the panel's type (stat, timeseries, table, ...);
 *  - `fieldConfig.defaults.custom` → `<plugin>.FieldConfig` (absent for plugins without one);
 *  - override properties `{id, value}` → `id` must name a `FieldConfig` property (`custom.x`: the plugin's), and the
 *    value must fit that property's type;
 *  - query targets (`cog.Dataquery`, a nominal marker) → our `InfluxQuery` (Grafana's InfluxQL query model), since
 *    the SDK ships no InfluxDB datasource type.
 * Left free-form (they are `any` in Grafana's schema too): transformation `options`, variable `query` objects.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const PANEL_MODULE: Record<string, string> = {
  stat: 'stat',
  timeseries: 'timeseries',
  table: 'table',
  piechart: 'piechart',
  bargauge: 'bargauge',
  'state-timeline': 'statetimeline',
};

const require = createRequire(import.meta.url);
const SDK_DIST = path.dirname(path.dirname(require.resolve('@grafana/grafana-foundation-sdk/dashboard')));
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export class SdkSchema {
  private readonly checker: ts.TypeChecker;
  private readonly program: ts.Program;
  private readonly cache = new Map<string, ts.Type | undefined>();

  constructor() {
    const roots = ['dashboard', 'common', ...Object.values(PANEL_MODULE)].map((m) => path.join(SDK_DIST, m, 'index.d.ts'));
    roots.push(path.join(REPO, 'src', 'dashboards', 'influxql.ts'));
    this.program = ts.createProgram(roots, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    this.checker = this.program.getTypeChecker();
  }

  /** The declared type `name` exported by SDK module `module` (or by our influxql.ts for module `influxql`). */
  type(module: string, name: string): ts.Type | undefined {
    const key = `${module}.${name}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const file = module === 'influxql' ? path.join(REPO, 'src', 'dashboards', 'influxql.ts') : path.join(SDK_DIST, module, 'index.d.ts');
    const sf = this.program.getSourceFile(file);
    const modSym = sf && this.checker.getSymbolAtLocation(sf);
    let sym = modSym && this.checker.getExportsOfModule(modSym).find((s) => s.name === name);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
    const t = sym ? this.checker.getDeclaredTypeOfSymbol(sym) : undefined;
    this.cache.set(key, t);
    return t;
  }

  private need(module: string, name: string): ts.Type {
    const t = this.type(module, name);
    if (!t) throw new Error(`SDK type ${module}.${name} not found under ${SDK_DIST}`);
    return t;
  }

  /** Problems of a whole dashboard (empty when it fits the schema). */
  validateDashboard(value: unknown): string[] {
    const errors: string[] = [];
    this.check(value, this.need('dashboard', 'Dashboard'), '$', errors);
    return errors;
  }

  private propType(t: ts.Type, name: string): ts.Type | undefined {
    const p = this.checker.getPropertyOfType(t, name);
    return p ? this.checker.getTypeOfSymbol(p) : undefined;
  }

  private describe(t: ts.Type): string {
    return this.checker.typeToString(t);
  }

  /** Special handling of the schema's `any` / marker slots, by where we are. */
  private special(value: unknown, at: string, errors: string[], ctx: { panelType?: string }): boolean {
    if (/\.(targets\[\d+\]|target)$/.test(at)) {
      this.check(value, this.need('influxql', 'InfluxQuery'), at, errors, ctx, true);
      return true;
    }
    if (at.endsWith('.options') && /panels\[\d+\]\.options$/.test(at)) {
      const m = ctx.panelType && PANEL_MODULE[ctx.panelType];
      if (!m) errors.push(`${at}: panel type ${ctx.panelType} has no SDK options type`);
      else this.check(value, this.need(m, 'Options'), at, errors, ctx, true);
      return true;
    }
    if (at.endsWith('.fieldConfig.defaults.custom')) {
      const m = ctx.panelType && PANEL_MODULE[ctx.panelType];
      const fc = m ? this.type(m, 'FieldConfig') : undefined;
      if (!fc) errors.push(`${at}: panel type ${ctx.panelType} declares no custom field config`);
      else this.check(value, fc, at, errors, ctx, true);
      return true;
    }
    if (/\.fieldConfig\.overrides\[\d+\]\.properties\[\d+\]$/.test(at)) {
      const o = value as { id?: unknown; value?: unknown };
      if (typeof o !== 'object' || o === null || typeof o.id !== 'string') {
        errors.push(`${at}: override property must be {id, value}`);
        return true;
      }
      for (const k of Object.keys(o)) if (k !== 'id' && k !== 'value') errors.push(`${at}.${k}: unknown field`);
      let target: ts.Type | undefined;
      let prop = o.id;
      if (o.id.startsWith('custom.')) {
        const m = ctx.panelType && PANEL_MODULE[ctx.panelType];
        target = m ? this.type(m, 'FieldConfig') : undefined;
        prop = o.id.slice('custom.'.length);
      } else target = this.need('dashboard', 'FieldConfig');
      const pt = target && this.propType(target, prop);
      if (!pt) errors.push(`${at}: override id "${o.id}" is not a field config property of ${ctx.panelType}`);
      else this.check(o.value, pt, `${at}.value(${o.id})`, errors, ctx, true);
      return true;
    }
    return false;
  }

  private check(value: unknown, t: ts.Type, at: string, errors: string[], ctx: { panelType?: string } = {}, resolved = false): void {
    if (!resolved && this.special(value, at, errors, ctx)) return;
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return; // free-form in Grafana's schema too
    if (t.isUnion()) {
      const members = t.types.filter((m) => !(m.flags & ts.TypeFlags.Undefined));
      let best: string[] | undefined;
      for (const m of members) {
        const e: string[] = [];
        this.check(value, m, at, e, ctx, true);
        if (e.length === 0) return;
        if (!best || e.length < best.length) best = e;
      }
      errors.push(...(best ?? [`${at}: no member of ${this.describe(t)} fits`]));
      return;
    }
    if (t.flags & ts.TypeFlags.Null) {
      if (value !== null) errors.push(`${at}: expected null`);
      return;
    }
    if (t.isStringLiteral() || t.isNumberLiteral()) {
      if (value !== t.value) errors.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(t.value)}`);
      return;
    }
    if (t.flags & ts.TypeFlags.BooleanLiteral) {
      const want = this.describe(t) === 'true';
      if (value !== want) errors.push(`${at}: expected ${String(want)}`);
      return;
    }
    if (t.flags & ts.TypeFlags.StringLike) {
      if (typeof value !== 'string') errors.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
      return;
    }
    if (t.flags & ts.TypeFlags.NumberLike) {
      if (typeof value !== 'number') errors.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
      return;
    }
    if (t.flags & ts.TypeFlags.BooleanLike) {
      if (typeof value !== 'boolean') errors.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    }
    if (this.checker.isArrayType(t) || this.checker.isTupleType(t)) {
      if (!Array.isArray(value)) {
        errors.push(`${at}: expected an array`);
        return;
      }
      const el = this.checker.getTypeArguments(t as ts.TypeReference)[0];
      if (el) value.forEach((v, i) => this.check(v, el, `${at}[${i}]`, errors, ctx));
      return;
    }
    if (t.flags & ts.TypeFlags.Object || t.isIntersection()) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        errors.push(`${at}: expected an object (${this.describe(t)}), got ${JSON.stringify(value)}`);
        return;
      }
      const obj = value as Record<string, unknown>;
      const inner = at.endsWith(']') && /panels\[\d+\]$/.test(at) && typeof obj['type'] === 'string' ? { panelType: obj['type'] } : ctx;
      const props = this.checker.getPropertiesOfType(t);
      const index = this.checker.getIndexTypeOfType(t, ts.IndexKind.String);
      for (const [k, v] of Object.entries(obj)) {
        const p = props.find((x) => x.name === k);
        if (p) this.check(v, this.checker.getTypeOfSymbol(p), `${at}.${k}`, errors, inner);
        else if (index) this.check(v, index, `${at}.${k}`, errors, inner);
        else errors.push(`${at}.${k}: unknown field (not in ${this.describe(t)})`);
      }
      for (const p of props) {
        const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
        const isMethod = (p.flags & ts.SymbolFlags.Method) !== 0;
        if (!optional && !isMethod && !(p.name in obj)) errors.push(`${at}.${p.name}: required by ${this.describe(t)} but missing`);
      }
      return;
    }
    errors.push(`${at}: cannot check against ${this.describe(t)}`);
  }
}
