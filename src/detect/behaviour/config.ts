/**
 * Options of the baseline-free behavioural detectors (`detect.behaviour`), defaults in one place. Each rule reads the
 * feature window (src/records/features.ts) of one device, plus a short rolling sum for the slow ones, and needs no
 * model: it runs on every device from its first window. Why each default: src/detect/README.md, "Behavioural
 * detectors".
 */
import { z } from 'zod';

const Rule = <T extends z.ZodRawShape>(shape: T) => z.object({ enabled: z.boolean().default(true), ...shape }).strict();

export const BehaviourConfig = z
  .object({
    /** Vertical scan: distinct destination ports of connections the device started in one window, with probe evidence. */
    port_scan: Rule({ min_ports: z.number().int().min(2).default(15) }).prefault({}),
    /**
     * Horizontal scan: new internal peers in one window, or external peers with most SYNs unanswered (worm-style
     * scanning of public addresses).
     */
    host_sweep: Rule({
      min_new_internal_peers: z.number().int().min(2).default(10),
      min_external_peers: z.number().int().min(2).default(25),
      max_answered_fraction: z.number().min(0).max(1).default(0.25),
      /** ARP sweep: ARP packets sent in one window that are not spoofed replies (requests for the addresses swept). */
      min_arp_requests: z.number().int().min(2).default(25),
    }).prefault({}),
    /** SYN flood from the device (SYNs in one window, mostly unanswered) or against it (connections accepted in one window). */
    flood: Rule({ min_syn: z.number().int().min(2).default(500), min_accepted: z.number().int().min(2).default(1000), max_answered_fraction: z.number().min(0).max(1).default(0.25) }).prefault({}),
    /** ARP spoofing: ARP replies claiming another device's IPv4 address, over `horizon_s`. */
    arp_spoof: Rule({ min_replies: z.number().int().min(1).default(5), horizon_s: z.number().positive().default(60) }).prefault({}),
    /** Brute force: remote-access connections to (or from) the device over `horizon_s`. */
    brute_force: Rule({ min_connections: z.number().int().min(2).default(8), horizon_s: z.number().positive().default(120) }).prefault({}),
    /** DNS tunnelling: many distinct, long, high-entropy query names in one window. */
    dns_tunnel: Rule({
      min_queries: z.number().int().min(1).default(10),
      min_unique_fraction: z.number().min(0).max(1).default(0.8),
      min_name_len_chars: z.number().positive().default(40),
      min_entropy_bits: z.number().positive().default(3.5),
    }).prefault({}),
    /** Lateral movement: a remote-access connection to an internal host the device never talked to (one is enough). */
    lateral_movement: Rule({ min_connections: z.number().int().min(1).default(1) }).prefault({}),
    /** Beaconing: a peer the device took up later, reached at a regular rhythm (feature `beacon_peers`). */
    beaconing: Rule({ min_peers: z.number().int().min(1).default(1) }).prefault({}),
    /** A rule incident stays open (one alert, updated) while matching windows follow each other within this gap. */
    incident_gap_s: z.number().positive().default(120),
  })
  .strict();

export type BehaviourConfig = z.infer<typeof BehaviourConfig>;
