/**
 * MAC vendor lookup from the IEEE registries shipped by `oui-data` (one JSON object: MA-L keys of 6 hex digits,
 * MA-M of 7, MA-S of 9, upper case; values are the organisation's name and postal address, one per line).
 * The 5.6 MB file is read and parsed once, on the first lookup (about 50 ms), never on the hot path: the inventory
 * looks a vendor up only when it creates a device.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isLocalMac } from './address.js';

let table: Record<string, string> | undefined;

function load(): Record<string, string> {
  if (table === undefined) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('oui-data');
    table = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  }
  return table;
}

/**
 * Organisation name for a 48-bit MAC (longest registry prefix first), or '' when the prefix is unassigned, the MAC is
 * locally administered (randomised/virtual) or a group address.
 */
export function macVendor(mac: number): string {
  if (mac < 0 || isLocalMac(mac) || Math.floor(mac / 0x10000000000) % 2 === 1) return '';
  const hex = mac.toString(16).toUpperCase().padStart(12, '0');
  const t = load();
  const entry = t[hex.slice(0, 9)] ?? t[hex.slice(0, 7)] ?? t[hex.slice(0, 6)];
  if (entry === undefined) return '';
  const nl = entry.indexOf('\n');
  return (nl < 0 ? entry : entry.slice(0, nl)).trim();
}
