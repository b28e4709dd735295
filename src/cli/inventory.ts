/**
 * `wardwatch inventory list | show <device> | export`: the device inventory that `run` and `replay` save at capture
 * end (`devices.state_file`, default out/inventory.json).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../config/load.js';
import { WardwatchError } from '../errors.js';
import { DeviceInventory } from '../flows/device-inventory.js';
import { appIdentityRows, appIdentityTexts, type AppIdentityList, type InventoryEntry } from '../records/device.js';
import { printable, textTable, utc } from './table.js';

interface InventoryCliOptions {
  config?: string;
  file?: string;
}

/** The saved inventory's entries; a clear error when there is none. */
export function readSavedInventory(o: InventoryCliOptions): { file: string; entries: InventoryEntry[] } {
  const config = loadConfig(o.config);
  const file = o.file ?? config.devices.state_file;
  if (!file) throw new WardwatchError('WW_INVENTORY_MISSING', 'devices.state_file is empty, so no inventory is saved: set it in the config or pass --file');
  if (!existsSync(file)) {
    throw new WardwatchError('WW_INVENTORY_MISSING', `${file}: no saved inventory (\`wardwatch run\` or \`replay\` writes it; or pass --file / set devices.state_file)`);
  }
  return { file, entries: DeviceInventory.load(file, config.devices).entries() };
}

/** A device by id, MAC, IP, operator name or DHCP host name (case-insensitive); an error naming the choices otherwise. */
export function findDevice(entries: readonly InventoryEntry[], query: string, file: string): InventoryEntry {
  const q = query.toLowerCase();
  const hit =
    entries.find((e) => e.device_id.toLowerCase() === q) ??
    entries.find((e) => e.mac === q || e.ips.includes(query)) ??
    entries.find((e) => (e.name !== '' && e.name.toLowerCase() === q) || (e.dhcp_hostname !== '' && e.dhcp_hostname.toLowerCase() === q));
  if (!hit) throw new WardwatchError('WW_INVENTORY_DEVICE_UNKNOWN', `${query}: no such device in ${file} (give a device id, MAC, IP, name or DHCP host name; \`wardwatch inventory list\` shows them)`);
  return hit;
}

const CSV_COLUMNS = [
  'device_id',
  'key_kind',
  'mac',
  'ips',
  'vendor',
  'device_class',
  'class_source',
  'class_confidence',
  'class_evidence',
  'name',
  'location',
  'criticality',
  'dhcp_hostname',
  'dhcp_vendor_class',
  'protocols',
  'listening_ports',
  'peers',
  'peers_overflow',
  'first_seen',
  'last_seen',
  'learning',
  'confirmed_by',
  'confirmed_at',
] as const satisfies readonly (keyof InventoryEntry)[];

/** The application identity as CSV columns (`appIdentityTexts`: values joined with `; `), after CSV_COLUMNS. */
const IDENTITY_CSV_COLUMNS = [
  'hl7_sending_applications',
  'hl7_sending_facilities',
  'hl7_receiving_applications',
  'hl7_receiving_facilities',
  'hl7_message_types',
  'hl7_versions',
  'hl7_equipment_ids',
  'dicom_ae_titles',
  'dicom_peer_ae_titles',
  'dicom_roles',
  'dicom_implementation_class_uids',
  'dicom_implementation_versions',
  'dicom_sop_classes',
  'mqtt_client_ids',
  'dhcp_parameter_lists',
] as const satisfies readonly AppIdentityList[];

function csvCell(v: unknown): string {
  const text = Array.isArray(v) ? v.join(' ') : String(v);
  // RFC 4180 quoting; a leading = + - @ is prefixed with ' so that spreadsheets do not run attacker-chosen formulas.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function inventoryCsv(entries: readonly InventoryEntry[]): string {
  const header = [...CSV_COLUMNS, ...IDENTITY_CSV_COLUMNS, 'identity_dropped'].join(',');
  const row = (e: InventoryEntry): string => {
    const t = appIdentityTexts(e.app_identity);
    return [...CSV_COLUMNS.map((c) => csvCell(e[c])), ...IDENTITY_CSV_COLUMNS.map((c) => csvCell(t[c])), csvCell(t.dropped)].join(',');
  };
  return [header, ...entries.map(row)].join('\r\n') + '\r\n';
}

function listTable(entries: readonly InventoryEntry[]): string {
  if (entries.length === 0) return 'The saved inventory has no devices.\n';
  const rows = entries.map((e) => [
    e.device_id,
    printable(e.name || e.dhcp_hostname || '-'),
    e.ips.slice(-2).join(' ') || '-',
    printable(e.vendor || '-').slice(0, 32),
    e.device_class.replace(/_/g, ' '),
    utc(e.first_seen),
    utc(e.last_seen),
    e.protocols.join(',') || '-',
  ]);
  return textTable(['device', 'name', 'IPs', 'vendor', 'class', 'first seen (UTC)', 'last seen (UTC)', 'protocols'], rows);
}

function showDevice(e: InventoryEntry): string {
  const rows: [string, string][] = [
    ['device', e.device_id],
    ['keyed by', e.key_kind],
    ['MAC', e.mac || '-'],
    ['IPs', e.ips.join(', ') || '-'],
    ['vendor', e.vendor || '-'],
    ['class', `${e.device_class.replace(/_/g, ' ')} (${e.class_source === 'inventory' ? 'inventory file' : `guess, confidence ${e.class_confidence}: ${e.class_evidence}`})`],
    ['name', e.name || '-'],
    ['location', e.location || '-'],
    ['criticality', e.criticality],
    ['DHCP host name', e.dhcp_hostname || '-'],
    ['DHCP vendor class', e.dhcp_vendor_class || '-'],
    ['protocols', e.protocols.join(', ') || '-'],
    ['listening ports', e.listening_ports.join(', ') || '-'],
    ['peers', `${e.peers.length}${e.peers_overflow ? '+ (list full)' : ''}: ${e.peers.slice(0, 24).join(', ')}${e.peers.length > 24 ? ', ...' : ''}`],
    ['first seen (UTC)', utc(e.first_seen)],
    ['last seen (UTC)', utc(e.last_seen)],
    ['listed since (UTC)', `${utc(e.confirmed_at)} (evidence: ${e.confirmed_by.replace(/_/g, ' ')})`],
    ...appIdentityRows(e.app_identity),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${printable(v)}`).join('\n') + '\n';
}

function withSource(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML configuration (devices.state_file says where the inventory is)')
    .option('--file <file>', 'saved inventory to read (overrides devices.state_file)');
}

export function inventoryCommand(): Command {
  const cmd = new Command('inventory')
    .description('The device inventory that run and replay save at capture end (devices.state_file, default out/inventory.json).')
    .addHelpText(
      'after',
      '\nExamples:\n  wardwatch run captures/demo.pcap && wardwatch inventory list\n  wardwatch inventory show PUMP-01\n  wardwatch inventory export --format csv -o devices.csv\n  wardwatch inventory list --file /var/lib/wardwatch/inventory.json\n',
    );
  cmd.addCommand(
    withSource(new Command('list').description('One line per device: id, name, IPs, vendor, class, first/last seen, protocols.'))
      .addHelpText('after', '\nExamples:\n  wardwatch inventory list\n  wardwatch inventory list -c site.yaml\n')
      .action((o: InventoryCliOptions) => {
        const { entries } = readSavedInventory(o);
        process.stdout.write(listTable(entries));
      }),
  );
  cmd.addCommand(
    withSource(new Command('show').description('Everything known about one device, with what its HL7, DICOM, MQTT and DHCP traffic says about it.').argument('<device>', 'device id, MAC, IP, name or DHCP host name'))
      .addHelpText('after', '\nExamples:\n  wardwatch inventory show mac:00:09:fb:2a:d1:15\n  wardwatch inventory show 10.20.11.11\n  wardwatch inventory show MONITOR-01\n')
      .action((device: string, o: InventoryCliOptions) => {
        const { file, entries } = readSavedInventory(o);
        process.stdout.write(showDevice(findDevice(entries, device, file)));
      }),
  );
  cmd.addCommand(
    withSource(new Command('export').description('The whole inventory as JSON (InventoryEntry records), CSV or YAML.'))
      .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv', 'yaml']).default('json'))
      .option('-o, --output <file>', 'write to a file instead of stdout')
      .addHelpText('after', '\nExamples:\n  wardwatch inventory export > devices.json\n  wardwatch inventory export --format csv -o devices.csv\n  wardwatch inventory export --format yaml\n')
      .action((o: InventoryCliOptions & { format: 'json' | 'csv' | 'yaml'; output?: string }) => {
        const { entries } = readSavedInventory(o);
        const text = o.format === 'csv' ? inventoryCsv(entries) : o.format === 'yaml' ? toYaml({ devices: entries }) : `${JSON.stringify(entries, null, 2)}\n`;
        if (o.output) writeFileSync(o.output, text);
        else process.stdout.write(text);
      }),
  );
  return cmd;
}
