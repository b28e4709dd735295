/**
 * The operator's inventory file (YAML): names, class, location and criticality of known devices. It overrides the
 * inventory's guesses. Validated with zod; unknown keys are rejected and errors name the offending field.
 *
 * ```yaml
 * devices:
 *   - mac: "00:1a:01:12:34:56"      # or  ip: 10.20.0.15  (exactly one of mac / ip)
 *     name: ICU-2 pump 4
 *     class: infusion_pump          # one of DEVICE_CLASSES
 *     location: ICU-2 bed 4
 *     criticality: life_critical    # low | medium | high | life_critical (default medium)
 * ```
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Criticality, DeviceClass } from '../records/device.js';
import { DEVICE_CLASSES } from '../records/device.js';
import { formatIpv4, formatIpv6, formatMac, parseMac } from '../records/packet.js';
import { parseIpv4, parseIpv6 } from './address.js';

const CRITICALITIES = ['low', 'medium', 'high', 'life_critical'] as const;

const FileDeviceSchema = z
  .object({
    mac: z
      .string()
      .refine((s) => parseMac(s) >= 0, 'must be a MAC address such as 00:1a:01:12:34:56')
      .optional(),
    ip: z
      .string()
      .refine((s) => parseIpv4(s) >= 0 || parseIpv6(s) !== undefined, 'must be an IPv4 or IPv6 address')
      .optional(),
    name: z.string().max(128).default(''),
    class: z.enum(DEVICE_CLASSES as [DeviceClass, ...DeviceClass[]]).optional(),
    location: z.string().max(128).default(''),
    criticality: z.enum(CRITICALITIES).default('medium'),
  })
  .strict()
  .refine((d) => (d.mac === undefined) !== (d.ip === undefined), { message: 'give exactly one of `mac` or `ip`' });

const FileSchema = z.object({ devices: z.array(FileDeviceSchema).default([]) }).strict();

/** One validated device of the inventory file, keyed like the inventory (`mac:…` or `ip:…`). */
export interface InventoryFileEntry {
  device_id: string;
  name: string;
  device_class: DeviceClass | undefined;
  location: string;
  criticality: Criticality;
}

/** Validates parsed YAML/JSON content. Throws ConfigError naming the field (e.g. `inventory.devices.2.class`). */
export function parseInventoryFile(content: unknown): InventoryFileEntry[] {
  const r = FileSchema.safeParse(content ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = ['inventory', ...(issue?.path ?? []).map(String)].join('.');
    throw new ConfigError(field, issue?.message ?? 'invalid');
  }
  const seen = new Set<string>();
  return r.data.devices.map((d, i) => {
    const id = d.mac !== undefined ? `mac:${formatMac(parseMac(d.mac))}` : `ip:${canonicalIp(d.ip ?? '')}`;
    if (seen.has(id)) throw new ConfigError(`inventory.devices.${i}`, `${id} is listed twice; keep one entry per device`);
    seen.add(id);
    return { device_id: id, name: d.name, device_class: d.class, location: d.location, criticality: d.criticality };
  });
}

/** Reads and validates a YAML inventory file. */
export function readInventoryFile(path: string): InventoryFileEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('inventory_file', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let content: unknown;
  try {
    content = parseYaml(text);
  } catch (err) {
    throw new ConfigError('inventory_file', `${path} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return parseInventoryFile(content);
}

function canonicalIp(text: string): string {
  const v4 = parseIpv4(text);
  if (v4 >= 0) return formatIpv4(v4);
  const v6 = parseIpv6(text);
  return v6 ? formatIpv6(v6) : text;
}
