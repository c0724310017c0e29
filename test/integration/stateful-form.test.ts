/**
 * The form of stateful rules (docs/stateful.md): a domain rule with a STATEFUL_* type and
 * `disabled: true`. It must round-trip through the real registry without loss, and
 * Confluent's reference JS serializer and deserializer must behave as if it were absent:
 * a per-message rule written after it (WRITE) or before it (READ, reversed) still runs,
 * and the bytes and decoded values are those of the same contract without stateful rules.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
// Deep imports: the package index also loads the AWS, Azure and GCP KMS SDKs.
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { CelExecutor } from "@confluentinc/schemaregistry/dist/rules/cel/cel-executor.js";
import { CelFieldExecutor } from "@confluentinc/schemaregistry/dist/rules/cel/cel-field-executor.js";
import type { Rule, RuleSet } from "../../src/contract/model.js";
import { statefulRules, statefulSpec } from "../../src/contract/index.js";
import { createRestRegistry, type RestRegistry } from "../../src/registry/rest/index.js";
import { ensureInfra, uniqueName } from "../helpers/infra.js";
import { uniqueIdent } from "./kafka-support.js";

const AMOUNT: Rule = { name: "amountPositive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "ERROR" };
const MASK: Rule = { name: "maskPii", kind: "TRANSFORM", mode: "READ", type: "CEL_FIELD", tags: ["PII"], expr: "'***'" };

const STATEFUL: Rule[] = [
  {
    name: "orderIdUnique",
    kind: "CONDITION",
    mode: "READ",
    type: "STATEFUL_UNIQUE",
    expr: "message.id",
    params: { "unique.window": "10m", "state.max.keys": "100000" },
    onFailure: "DLQ",
    disabled: true,
  },
  {
    name: "seqIncreases",
    kind: "CONDITION",
    mode: "READ",
    type: "STATEFUL_ORDER",
    expr: "message.seq",
    params: { "order.key": "message.customerId", "order.contiguous": "true" },
    onFailure: "NONE",
    disabled: true,
  },
  {
    name: "customerExists",
    kind: "CONDITION",
    mode: "READ",
    type: "STATEFUL_REFERENCE",
    expr: "message.customerId",
    params: { "reference.topic": "customers", "reference.wait": "30s" },
    onFailure: "ERROR",
    disabled: true,
  },
  {
    name: "allItemsArrive",
    kind: "CONDITION",
    mode: "READ",
    type: "STATEFUL_COMPLETE",
    expr: "message.id",
    params: { "complete.parent": "message.seq == 0", "complete.parts": "int(message.amount)", "complete.part.of": "message.customerId", "complete.within": "5m" },
    onFailure: "DLQ",
    disabled: true,
  },
];

// Stateful rules first, between and last: JS skips every rule after an unknown executor, so
// any position that reached the executor lookup would switch off AMOUNT (WRITE) or MASK (READ).
const WITH_STATEFUL: RuleSet = { domainRules: [STATEFUL[0]!, AMOUNT, STATEFUL[1]!, MASK, STATEFUL[2]!, STATEFUL[3]!] };
const WITHOUT: RuleSet = { domainRules: [AMOUNT, MASK] };

const schema = (): string =>
  JSON.stringify({
    type: "record",
    name: "Order",
    namespace: uniqueIdent("stateful_form"),
    fields: [
      { name: "id", type: "string" },
      { name: "customerId", type: "string" },
      { name: "seq", type: "long" },
      { name: "amount", type: "double" },
      { name: "email", type: "string", "confluent:tags": ["PII"] },
    ],
  });

/** AxonOps omits `disabled: false`; Confluent writes it. Only `true` carries meaning here. */
const normalized = (rules: Rule[] | undefined): Rule[] => (rules ?? []).map(({ disabled, ...rest }) => (disabled ? { ...rest, disabled } : rest));

let registry: RestRegistry;
let confluent: SchemaRegistryClient;
const subjects: string[] = [];

before(async () => {
  const infra = await ensureInfra();
  registry = createRestRegistry({ url: infra.registryUrl });
  confluent = new SchemaRegistryClient({ baseURLs: [infra.registryUrl] });
  CelExecutor.register();
  CelFieldExecutor.register();
});

after(async () => {
  for (const s of subjects) await registry?.deleteSubject(s, { permanent: true }).catch(() => undefined);
});

describe("stateful rules in a Confluent contract", () => {
  it("round-trip through the real registry unchanged, and parse back into the same specs", async () => {
    const subject = `${uniqueName("stateful-form")}-value`;
    subjects.push(subject);
    const stored = await registry.register(subject, { schema: schema(), ruleSet: WITH_STATEFUL });
    const read = await createRestRegistry({ url: registry.urls[0]! }).getVersion(subject, "latest");
    assert.deepEqual(normalized(read.ruleSet?.domainRules), WITH_STATEFUL.domainRules);
    assert.deepEqual(normalized(stored.ruleSet?.domainRules), WITH_STATEFUL.domainRules);
    assert.deepEqual(
      statefulRules(read.ruleSet).map((r) => statefulSpec(r).type),
      ["STATEFUL_UNIQUE", "STATEFUL_ORDER", "STATEFUL_REFERENCE", "STATEFUL_COMPLETE"],
    );
  });

  it("Confluent's JS serializer and deserializer behave as without them", async () => {
    const topicWith = uniqueName("stateful-form-with");
    const topicWithout = uniqueName("stateful-form-without");
    subjects.push(`${topicWith}-value`, `${topicWithout}-value`);
    const text = schema();
    await registry.register(`${topicWith}-value`, { schema: text, ruleSet: WITH_STATEFUL });
    await registry.register(`${topicWithout}-value`, { schema: text, ruleSet: WITHOUT });

    const order = { id: "o-1", customerId: "c-1", seq: 1, amount: 12.5, email: "ada@example.com" };
    const serde = (topic: string) => ({
      ser: new AvroSerializer(confluent, SerdeType.VALUE, { useLatestVersion: true }),
      de: new AvroDeserializer(confluent, SerdeType.VALUE, {}),
      topic,
    });
    const results: { payload: string; decoded: Record<string, unknown>; refused: string }[] = [];
    for (const { ser, de, topic } of [serde(topicWith), serde(topicWithout)]) {
      const bytes = await ser.serialize(topic, order);
      const decoded = (await de.deserialize(topic, bytes)) as Record<string, unknown>;
      const refused = await ser.serialize(topic, { ...order, amount: -1 }).then(
        () => "accepted",
        (e: Error) => e.message,
      );
      results.push({ payload: bytes.subarray(5).toString("hex"), decoded: { ...decoded, seq: Number(decoded.seq) }, refused });
    }
    const [withStateful, without] = results;
    assert.deepEqual(withStateful, without);
    // and what they both did is what the per-message rules say
    assert.equal(without!.decoded.email, "***", "the READ transform ran");
    assert.match(without!.refused, /amountPositive/, "the WRITE condition ran");
  });
});
