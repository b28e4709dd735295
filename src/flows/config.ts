/**
 * Options of the flows stage (flow table and device identity), with their defaults in one place. Units are in the
 * option names; unknown keys are rejected; an invalid value fails with the field's path (ConfigError).
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseCidr } from './address.js';
import { parseMac } from '../records/packet.js';

export const FlowTableOptionsSchema = z
  .object({
    /** Hard cap on concurrent flows. Memory is allocated up front: about 200 bytes per flow. */
    max_flows: z.number().int().min(16).max(16_777_216).default(262_144),
    /** Idle timeout of TCP flows answered by both sides and not closed (Zeek: tcp_inactivity_timeout 5 min). */
    tcp_idle_timeout_ms: z.number().int().positive().default(300_000),
    /** Idle timeout of TCP flows seen in one direction only (connection attempts, scans, floods, asymmetric capture). */
    tcp_attempt_timeout_ms: z.number().int().positive().default(10_000),
    /** Time a TCP flow is kept after it closed (FIN both ways) or was reset, to absorb late packets. */
    tcp_closed_timeout_ms: z.number().int().positive().default(5_000),
    /** Idle timeout of UDP flows (Zeek: udp_inactivity_timeout 1 min). */
    udp_idle_timeout_ms: z.number().int().positive().default(60_000),
    /** Idle timeout of ICMP, ARP and other-protocol flows. */
    other_idle_timeout_ms: z.number().int().positive().default(60_000),
    /**
     * A flow older than this writes a record (`end_reason: 'active_timeout'`) and continues with fresh counters and
     * a new uid, keeping its direction and TCP state. 0 disables.
     */
    active_timeout_ms: z.number().int().min(0).default(1_800_000),
    /** How often (packet time) idle flows are swept. */
    sweep_interval_ms: z.number().int().positive().default(1_000),
    /**
     * Make the outer 802.1Q VLAN id part of the flow key (Suricata's `vlan.use-for-tracking`). Off by default, as in
     * Zeek: SPAN sessions often mirror one direction from a trunk (tagged) and the other from an access port
     * (untagged), and then a VLAN-keyed table splits every conversation into two one-way flows (measured on both
     * real-device sets in ../shared/dev-eval: every connection was one-way, each answered SYN counted as unanswered).
     * Turn it on only where the same addresses are reused on different VLANs of one mirror. The flow record's `vlan`
     * is the first packet's either way.
     */
    vlan_in_flow_key: z.boolean().default(false),
  })
  .strict();

export type FlowTableOptions = z.infer<typeof FlowTableOptionsSchema>;

const SubnetSchema = z
  .object({
    /** IPv4 or IPv6 prefix, e.g. `10.20.0.0/16`. */
    cidr: z.string().refine((s) => parseCidr(s) !== undefined, 'must be an IPv4 or IPv6 CIDR prefix such as 10.20.0.0/16'),
    /**
     * `mac`: the subnet is on the mirrored L2 segment, its devices are keyed by MAC.
     * `ip`: the subnet is reached through a router (its frames carry the gateway's MAC), devices are keyed by IP.
     */
    key: z.enum(['mac', 'ip']).default('mac'),
  })
  .strict();

export const DeviceIdentityOptionsSchema = z
  .object({
    /**
     * Internal subnets, most specific first wins (longest prefix). Addresses outside them are external peers, never
     * devices. Default: the RFC 1918 and IPv6 unique-local/link-local ranges, keyed by MAC.
     */
    subnets: z
      .array(SubnetSchema)
      .default([
        { cidr: '10.0.0.0/8', key: 'mac' },
        { cidr: '172.16.0.0/12', key: 'mac' },
        { cidr: '192.168.0.0/16', key: 'mac' },
        { cidr: 'fc00::/7', key: 'mac' },
        { cidr: 'fe80::/10', key: 'mac' },
      ]),
    /** MACs of routers/gateways: never devices; traffic through them is attributed by IP. */
    gateway_macs: z.array(z.string().refine((s) => parseMac(s) >= 0, 'must be a MAC such as 00:11:22:33:44:55')).default([]),
    /**
     * Also treat as a gateway any MAC seen sending packets from at least `auto_gateway_min_sources` distinct external
     * source addresses (a router forwards for many; a host sending from its own global address is not one).
     */
    auto_gateway: z.boolean().default(true),
    auto_gateway_min_sources: z.number().int().min(1).max(1000).default(4),
    /**
     * Hard cap on devices with a handle (confirmed or not). Devices are never evicted; newcomers beyond the cap are
     * counted (`devices_overflow`).
     */
    max_devices: z.number().int().min(1).max(1_000_000).default(16_384),
    /**
     * Evidence rule (docs/flows-and-devices.md "Evidence"): a sender is listed in the inventory (saved, exported,
     * published, announced) only once it shows evidence of being a real host — a TCP handshake, an answered exchange,
     * an ARP reply, a DHCP lease, sustained traffic, or the inventory file. false: every sender is confirmed at its
     * first packet (`confirmed_by: first_packet`), as before schema version 2.
     */
    require_evidence: z.boolean().default(true),
    /**
     * Candidates (senders without evidence yet) that get a device handle at their first packet, at most this many at
     * a time: their feature windows are emitted from the first packet, but they are not listed. A real device leaves
     * the pool at its first answered exchange; a spoofed source never does (handles are never reused). Beyond it a new
     * sender waits in the candidate table, its packets unattributed and counted in `devices_overflow`, until it shows
     * evidence or sends `candidate_track_packets`. About 1.5 KB per handle with the feature stage's rows.
     */
    max_unconfirmed_devices: z.number().int().min(0).max(1_000_000).default(4096),
    /**
     * Slots of the candidate table (allocated up front, 33 bytes each; 4-way set-associative, a full set evicts its
     * least active entry, counted in `candidates_evicted`). Holds, per candidate: packets sent, first and last seen.
     */
    max_candidates: z.number().int().min(16).max(16_777_216).default(65_536),
    /**
     * A candidate in the table that has sent this many packets gets a handle (not a listing): a host that keeps
     * sending unanswered — a scanner — is still a device the detector must see. Subject to `max_devices`.
     */
    candidate_track_packets: z.number().int().min(1).max(1_000_000).default(32),
    /**
     * A candidate that has sent at least `confirm_sustained_packets` packets over at least `confirm_sustained_ms`
     * (first to latest, packet time) from the same address is confirmed (`sustained`): a real host nobody answers
     * (a syslog-only sender). A spoofed source that sends once never is. 0 disables.
     */
    confirm_sustained_ms: z.number().int().min(0).default(600_000),
    confirm_sustained_packets: z.number().int().min(1).max(1_000_000).default(10),
    /** Per-device bounds of the inventory's learned lists. */
    max_ips_per_device: z.number().int().min(1).max(64).default(8),
    max_peers_per_device: z.number().int().min(1).max(65_536).default(256),
    max_listening_ports_per_device: z.number().int().min(1).max(65_536).default(64),
    /**
     * An ARP claim of an IPv4 address bound to another MAC is a conflict (counted as a spoof) unless the old owner
     * has been silent for this long, in which case the binding moves to the new MAC.
     */
    arp_binding_timeout_ms: z.number().int().positive().default(600_000),
    /**
     * A binding that moved to a new MAC (its owner was silent for `arp_binding_timeout_ms`) returns to the MAC it was
     * taken from when that MAC claims it again and the new owner has not claimed it by ARP for this long (an ARP spoof
     * that ended), instead of every later claim of the real owner counting as a conflict.
     */
    arp_reclaim_ms: z.number().int().positive().default(60_000),
    /**
     * Medical identity (`app_identity`): how long after a device's first value of an identity field (its first HL7
     * message, its first A-ASSOCIATE-RQ) its identity is learned before a new value of that field counts as a change
     * (feature `identity_changes`). Per device and field, packet time; a device restored from a saved inventory is
     * settled for the fields it has values of. 1 h: a device's first hour after the sensor starts (or after it first
     * speaks the protocol) shows what it normally sends, as the detector's learning period does.
     */
    identity_settle_ms: z.number().int().min(0).default(3_600_000),
    /**
     * Where `run` and `replay` save the learned device inventory (JSON) at capture end, and where
     * `wardwatch inventory` reads it. Empty: not saved. (The inventory itself does not read this option.)
     */
    state_file: z.string().default('out/inventory.json'),
  })
  .strict();

export type DeviceIdentityOptions = z.infer<typeof DeviceIdentityOptionsSchema>;

/** Parses options with zod, turning the first issue into a ConfigError naming the field. */
export function parseOptions<T extends z.ZodType>(schema: T, input: unknown, prefix: string): z.infer<T> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = [prefix, ...(issue?.path ?? []).map(String)].filter((s) => s !== '').join('.');
  throw new ConfigError(field, issue?.message ?? 'invalid');
}
