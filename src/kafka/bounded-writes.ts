/**
 * kontract's own writes (changelog entries, dead letters, retry and park records, completions)
 * split into calls a broker takes. kafkajs and @platformatic/kafka send a partition's records of one
 * call as one record batch, and the broker refuses a batch past the topic's `max.message.bytes`
 * (1 MiB by default) whatever the producer retries: a changelog flush that waited behind a slow
 * write, or a large batch's dead letters, would fail for good and hold its partition. The caller's
 * own sends are not split: those fail as they would on the plain client.
 */
import type { OutgoingMessage, RecordHeaders, RecordMetadata, TopicMessages, Written } from "./client.js";
import type { Placement } from "./placement.js";

/** Bytes per topic in one call, counted so as never to undercount (strings at 3 bytes per UTF-16 unit). */
export const WRITE_BUDGET_BYTES = 768 * 1024;

/** Record framing that the counts below leave out (lengths, offsets, attributes), per record and header. */
const RECORD_OVERHEAD = 32;

const size = (v: Buffer | string | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === "string" ? v.length * 3 : v.length);

function headerBytes(headers: RecordHeaders | undefined): number {
  if (headers === undefined) return 0;
  let n = 0;
  for (const name in headers) {
    const v = headers[name];
    n += name.length * 3 + RECORD_OVERHEAD;
    if (Array.isArray(v)) for (const x of v) n += size(x);
    else n += size(v as Buffer | string | undefined);
  }
  return n;
}

const messageBytes = (m: OutgoingMessage): number => size(m.key) + size(m.value) + headerBytes(m.headers) + RECORD_OVERHEAD;

/** One call's share of a topic: which of the given TopicMessages, from which of its records. */
interface Share {
  readonly entry: number;
  readonly from: number;
}

/**
 * `topicMessages` as consecutive calls, in order, each holding at most `budget` bytes of any one
 * topic (and at least one record). One call when it all fits, which is the usual case.
 */
export function boundedWrites(topicMessages: readonly TopicMessages[], budget = WRITE_BUDGET_BYTES): { calls: TopicMessages[][]; shares: Share[][] } {
  const calls: TopicMessages[][] = [];
  const shares: Share[][] = [];
  // Per topic: the call its next record goes to, the bytes that call holds of it, its list there.
  const cursors = new Map<string, { call: number; bytes: number; list: OutgoingMessage[] | undefined; entry: number }>();
  topicMessages.forEach(({ topic, messages }, entry) => {
    let c = cursors.get(topic);
    if (c === undefined) cursors.set(topic, (c = { call: 0, bytes: 0, list: undefined, entry }));
    // A topic listed again goes on in the call it reached, in a list of its own (its records keep their order).
    c.list = undefined;
    c.entry = entry;
    messages.forEach((m, i) => {
      const n = messageBytes(m);
      if (c.bytes > 0 && c.bytes + n > budget) {
        c.call++;
        c.bytes = 0;
        c.list = undefined;
      }
      if (c.list === undefined) {
        c.list = [];
        (calls[c.call] ??= []).push({ topic, messages: c.list });
        (shares[c.call] ??= []).push({ entry, from: i });
      }
      c.list.push(m);
      c.bytes += n;
    });
  });
  return { calls, shares };
}

/**
 * Writes `topicMessages` in bounded calls, one after the other; the placements come back in the
 * order of the records given, as one call's would. A call that fails fails the whole: the calls
 * before it stay written, so a caller that writes it all again writes their records twice (at
 * least once, as any retried write).
 */
export async function writeBounded(topicMessages: readonly TopicMessages[], write: (topicMessages: TopicMessages[]) => Promise<Written>): Promise<Written> {
  const { calls, shares } = boundedWrites(topicMessages);
  if (calls.length <= 1) return write(calls[0] ?? []);
  const starts: number[] = [];
  let total = 0;
  for (const { messages } of topicMessages) {
    starts.push(total);
    total += messages.length;
  }
  const placements = new Array<Placement>(total);
  const records: RecordMetadata[] = [];
  for (let c = 0; c < calls.length; c++) {
    const written = await write(calls[c]!);
    let k = 0;
    calls[c]!.forEach(({ messages }, j) => {
      const { entry, from } = shares[c]![j]!;
      for (let i = 0; i < messages.length; i++) placements[starts[entry]! + from + i] = written.placements[k++]!;
    });
    records.push(...written.records);
  }
  return { placements, records };
}
