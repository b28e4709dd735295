/**
 * Topic names and creation. Names are `<prefix><name>`; topics are created with the admin client when missing,
 * with partitions, replication factor and retention from config. Existing topics are left as they are.
 */
import type { Admin } from 'kafkajs';

export interface TopicOptions {
  /** Prepended to every topic name, e.g. `hospital-a.` */
  prefix: string;
  features: string;
  alerts: string;
  /** Ended flow records; empty = not published (the default). */
  flows: string;
  /** Compacted device inventory (sensor → detectors). */
  inventory: string;
  dead_letter: string;
  partitions: number;
  replication_factor: number;
  retention_ms: number;
}

export const DEFAULT_TOPICS: TopicOptions = {
  prefix: 'wardwatch.',
  features: 'features',
  alerts: 'alerts',
  flows: '',
  inventory: 'inventory',
  dead_letter: 'dead-letter',
  partitions: 6,
  replication_factor: 1,
  retention_ms: 7 * 24 * 3600 * 1000,
};

export interface TopicNames {
  features: string;
  alerts: string;
  /** Empty when flow records are not published. */
  flows: string;
  inventory: string;
  dead_letter: string;
}

export function topicNames(o: TopicOptions = DEFAULT_TOPICS): TopicNames {
  return {
    features: o.prefix + o.features,
    alerts: o.prefix + o.alerts,
    flows: o.flows ? o.prefix + o.flows : '',
    inventory: o.prefix + o.inventory,
    dead_letter: o.prefix + o.dead_letter,
  };
}

/** Creates the missing ones of `names` (those also in `compacted` with cleanup.policy=compact); returns the names it created. */
export async function ensureTopics(admin: Admin, names: string[], o: TopicOptions = DEFAULT_TOPICS, compacted: readonly string[] = []): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: o.partitions,
      replicationFactor: o.replication_factor,
      configEntries: compacted.includes(topic) ? [{ name: 'cleanup.policy', value: 'compact' }] : [{ name: 'retention.ms', value: String(o.retention_ms) }],
    })),
  });
  return missing;
}
