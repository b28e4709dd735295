/**
 * Issue 21 item 6: the README's error-code table is the list of the codes wardwatch gives (`WW_…`), checked against
 * the code: every code a source file under src/ gives (a quoted `WW_` string in TypeScript, or a coded throw of the
 * capture addon in C) is in the table, and every code of the table is given somewhere.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (name === 'build' || name === 'node_modules') continue;
    if (statSync(file).isDirectory()) out.push(...sources(file));
    else if (/\.(ts|c)$/.test(name)) out.push(file);
  }
  return out;
}

describe('README error-code table', () => {
  it('lists exactly the codes the source gives', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = new Set([...readme.matchAll(/^\| `(WW_[A-Z_]+)` \|/gm)].map((m) => m[1]!));
    assert.ok(table.size >= 20, `${table.size} codes in the README table`);
    const given = new Map<string, string>();
    for (const file of sources('src')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"](WW_[A-Z][A-Z_]*[A-Z])['"]/g)) if (!given.has(m[1]!)) given.set(m[1]!, file);
    }
    const undocumented = [...given].filter(([code]) => !table.has(code)).map(([code, file]) => `${code} (${file})`);
    assert.deepEqual(undocumented, [], 'codes given by the source but missing from the README table');
    const unused = [...table].filter((code) => !given.has(code));
    assert.deepEqual(unused, [], 'codes in the README table that no source file gives');
  });
});
