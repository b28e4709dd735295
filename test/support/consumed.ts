/** Test helper: wait until a consumer group has committed everything a topic holds now. */
import type { Kafka } from 'kafkajs';

/**
 * Resolves once `group` has committed, summed over the partitions of `topic`, as many messages as the topic holds
 * when called (its high watermarks); throws `what` after `timeoutMs`. Returns the milliseconds it waited.
 */
export async function waitForGroupCommitted(kafka: Kafka, group: string, topic: string, what: string, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const total = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    for (;;) {
      const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      if ((committed[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) >= total) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`${what} (${timeoutMs} ms)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
