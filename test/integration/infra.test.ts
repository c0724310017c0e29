/**
 * Smoke test of the real test infrastructure (scripts/infra.sh): a Kafka broker that kafkajs can
 * use, and a registry that stores data contracts (metadata + ruleSet) and gives them back intact.
 * The last group pins AxonOps behaviour that differs from Confluent's, which the REST client
 * has to cope with (docs/infra.md lists the differences).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage } from "kafkajs";
import type { Metadata, Rule, RuleSet } from "../../src/contract/model.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";

const SR_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/** The fields of registry replies these tests read; the JSON is otherwise taken as it comes. */
interface RegistryBody {
  id?: number;
  version?: number;
  subject?: string;
  schema?: string;
  schemaType?: string;
  metadata?: Metadata;
  ruleSet?: RuleSet;
  error_code?: number;
}

interface RegistryReply {
  status: number;
  body: RegistryBody;
}

async function sr(infra: Infra, method: string, path: string, body?: unknown): Promise<RegistryReply> {
  const response = await fetch(`${infra.registryUrl}${path}`, {
    method,
    headers: { "content-type": SR_CONTENT_TYPE, accept: SR_CONTENT_TYPE },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as RegistryBody) };
}

/** Avro namespaces allow only [A-Za-z0-9_]; a fresh one gives a schema text (and so an id) no other test has. */
function avroOrderSchema(): string {
  const namespace = `smoke_${uniqueName("ns").replace(/[^A-Za-z0-9_]/g, "_")}`;
  return JSON.stringify({
    type: "record",
    name: "Order",
    namespace,
    fields: [
      { name: "id", type: "string" },
      { name: "amount", type: "double" },
      { name: "email", type: "string" },
    ],
  });
}

const METADATA: Metadata = {
  properties: { owner: "team-payments", "kontract.contract": "orders" },
  tags: { "**.email": ["PII"] },
  sensitive: ["kontract.secret"],
};

const AMOUNT_RULE: Rule = {
  name: "amountNonNegative",
  doc: "an order never has a negative amount",
  kind: "CONDITION",
  mode: "WRITE",
  type: "CEL",
  tags: ["PII"],
  params: { "dlq.topic": "orders-dlq", "dlq.auto.flush": "true" },
  expr: "message.amount >= 0.0",
  onSuccess: "NONE",
  onFailure: "DLQ",
};

const RULE_SET: RuleSet = { domainRules: [AMOUNT_RULE] };

/** The registry may add `confluent:version` (AxonOps always does; Confluent when asked). */
function withoutConfluentVersion(metadata: Metadata): Metadata {
  const { "confluent:version": _ignored, ...properties } = metadata.properties ?? {};
  return { ...metadata, properties };
}

/** Confluent serialises `disabled: false`; AxonOps omits it. Both mean the same. */
function withoutDefaultDisabled(ruleSet: RuleSet): RuleSet {
  const strip = (rules: Rule[] | undefined): Rule[] | undefined =>
    rules?.map(({ disabled, ...rest }) => (disabled ? { ...rest, disabled } : rest));
  const out: RuleSet = {};
  for (const phase of ["migrationRules", "domainRules", "encodingRules"] as const) {
    const rules = strip(ruleSet[phase]);
    if (rules && rules.length > 0) out[phase] = rules;
  }
  return out;
}

function assertContractIntact(reply: { metadata?: Metadata; ruleSet?: RuleSet }, where: string): void {
  assert.ok(reply.metadata, `${where}: metadata missing`);
  assert.ok(reply.ruleSet, `${where}: ruleSet missing`);
  assert.deepEqual(withoutConfluentVersion(reply.metadata), METADATA, `${where}: metadata`);
  assert.deepEqual(withoutDefaultDisabled(reply.ruleSet), RULE_SET, `${where}: ruleSet`);
}

let infra: Infra;

before(async () => {
  infra = await ensureInfra();
});

describe("Kafka broker (scripts/kafka.sh)", () => {
  const kafka = (): Kafka =>
    new Kafka({ clientId: "kontract-infra-smoke", brokers: infra.brokers, logLevel: logLevel.ERROR });

  it("creates a topic with the admin client, then a produced message is consumed back", async () => {
    const client = kafka();
    const admin = client.admin();
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    let consumer: Consumer | undefined;
    const topic = uniqueName("smoke");
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      assert.equal(created, true, "createTopics reported the topic as already existing");
      assert.ok((await admin.listTopics()).includes(topic));

      await producer.connect();
      const [sent] = await producer.send({
        topic,
        messages: [{ key: "order-1", value: '{"amount":12.5}', headers: { "kontract-test": "yes" } }],
      });
      assert.equal(sent.errorCode, 0);

      consumer = client.consumer({ groupId: uniqueName("smoke-group") });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: KafkaMessage[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push(message);
        },
      });
      await waitFor(() => received.length > 0, { timeoutMs: 30_000, what: `a message on ${topic}` });

      assert.equal(received.length, 1);
      const [message] = received;
      assert.equal(message.key?.toString(), "order-1");
      assert.equal(message.value?.toString(), '{"amount":12.5}');
      assert.equal(message.headers?.["kontract-test"]?.toString(), "yes");
      assert.equal(message.offset, sent.baseOffset);
    } finally {
      await consumer?.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe("schema registry (scripts/registry.sh): data contracts round-trip", () => {
  const subject = uniqueName("smoke-orders") + "-value";
  const schema = avroOrderSchema();
  let id: number;

  before(async () => {
    const reply = await sr(infra, "POST", `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema,
      metadata: METADATA,
      ruleSet: RULE_SET,
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.ok(typeof reply.body.id === "number", `no id in ${JSON.stringify(reply.body)}`);
    id = reply.body.id;
  });

  it("GET /subjects/{s}/versions/latest returns the schema, metadata and CEL ruleSet intact", async () => {
    const reply = await sr(infra, "GET", `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.subject, subject);
    assert.equal(reply.body.version, 1);
    assert.equal(reply.body.id, id);
    assert.equal(reply.body.schema, schema);
    assertContractIntact(reply.body, "versions/latest");
  });

  it("GET /schemas/ids/{id}?subject={s} returns the registration's metadata and ruleSet", async () => {
    const reply = await sr(infra, "GET", `/schemas/ids/${id}?subject=${encodeURIComponent(subject)}`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.schema, schema);
    assertContractIntact(reply.body, "schemas/ids?subject");
  });

  it("GET /subjects/{s}/metadata?key=&value= finds the version by a metadata property", async () => {
    const path = `/subjects/${encodeURIComponent(subject)}/metadata`;
    const hit = await sr(infra, "GET", `${path}?key=owner&value=team-payments`);
    assert.equal(hit.status, 200, JSON.stringify(hit.body));
    assert.equal(hit.body.id, id);
    assert.equal(hit.body.version, 1);
    assertContractIntact(hit.body, "subjects/metadata");

    const miss = await sr(infra, "GET", `${path}?key=owner&value=someone-else`);
    assert.equal(miss.status, 404);
    assert.equal(miss.body.error_code, 40403);
  });

  it("POST /subjects/{s}?deleted=true finds a soft-deleted version with its metadata and ruleSet", async () => {
    const deleted = await sr(infra, "DELETE", `/subjects/${encodeURIComponent(subject)}/versions/1`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));

    const hidden = await sr(infra, "POST", `/subjects/${encodeURIComponent(subject)}`, { schema });
    assert.equal(hidden.status, 404, "a soft-deleted version must not be found without deleted=true");

    const found = await sr(infra, "POST", `/subjects/${encodeURIComponent(subject)}?deleted=true`, { schema });
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.id, id);
    assert.equal(found.body.version, 1);
    assertContractIntact(found.body, "lookup deleted=true");
  });

  it("GET /schemas/ids/{id}?format=serialized returns a protobuf schema as a FileDescriptorProto", async () => {
    const pkg = `smoke.${uniqueName("p").replace(/[^A-Za-z0-9]/g, "_")}`;
    const proto = `syntax = "proto3";\npackage ${pkg};\n\nmessage Order {\n  string id = 1;\n  double amount = 2;\n}\n`;
    const protoSubject = uniqueName("smoke-proto") + "-value";
    const registered = await sr(infra, "POST", `/subjects/${encodeURIComponent(protoSubject)}/versions`, {
      schemaType: "PROTOBUF",
      schema: proto,
    });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));

    const reply = await sr(infra, "GET", `/schemas/ids/${registered.body.id}?format=serialized`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.schemaType, "PROTOBUF");
    const descriptor = fromBinary(FileDescriptorProtoSchema, Buffer.from(reply.body.schema ?? "", "base64"));
    assert.equal(descriptor.package, pkg);
    assert.equal(descriptor.syntax, "proto3");
    assert.deepEqual(
      descriptor.messageType.map((m) => [m.name, m.field.map((f) => f.name)]),
      [["Order", ["id", "amount"]]],
    );
  });
});

// These pin what the pinned AxonOps tag does where Confluent differs; with KONTRACT_INFRA=external
// the registry may be a different product, so they do not apply there.
const axonopsOnly = process.env.KONTRACT_INFRA === "external" ? "registry is external, may not be AxonOps" : false;

describe("AxonOps differences from Confluent the REST client must cope with", { skip: axonopsOnly }, () => {
  it("plain GET /schemas/ids/{id} omits metadata and ruleSet (Confluent includes them): pass ?subject=", async () => {
    const subject = uniqueName("quirk-ids") + "-value";
    const schema = avroOrderSchema();
    const registered = await sr(infra, "POST", `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema,
      metadata: METADATA,
      ruleSet: RULE_SET,
    });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    const reply = await sr(infra, "GET", `/schemas/ids/${registered.body.id}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.schema, schema);
    assert.equal(reply.body.ruleSet, undefined);
    assert.equal(reply.body.metadata, undefined);
  });

  it("same schema text with a new ruleSet is a new version with the SAME id (Confluent assigns a new id)", async () => {
    const subject = uniqueName("quirk-id-reuse") + "-value";
    const path = `/subjects/${encodeURIComponent(subject)}/versions`;
    const schema = avroOrderSchema();
    const first = await sr(infra, "POST", path, { schema, ruleSet: RULE_SET });
    const otherRules: RuleSet = { domainRules: [{ ...AMOUNT_RULE, name: "amountBelowLimit", expr: "message.amount < 1e6" }] };
    const second = await sr(infra, "POST", path, { schema, ruleSet: otherRules });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);

    const versions = await sr(infra, "GET", path);
    assert.deepEqual(versions.body, [1, 2]);
    const latest = await sr(infra, "GET", `${path}/latest`);
    assert.ok(latest.body.ruleSet, "latest version has no ruleSet");
    assert.deepEqual(withoutDefaultDisabled(latest.body.ruleSet), otherRules);
  });

  it("adds metadata.properties['confluent:version'] even when the registration sent no metadata", async () => {
    const subject = uniqueName("quirk-version-prop") + "-value";
    const path = `/subjects/${encodeURIComponent(subject)}/versions`;
    const registered = await sr(infra, "POST", path, { schema: avroOrderSchema() });
    assert.equal(registered.status, 200);
    const latest = await sr(infra, "GET", `${path}/latest`);
    assert.deepEqual(latest.body.metadata, { properties: { "confluent:version": "1" } });
    assert.equal(latest.body.schemaType, "AVRO", "AxonOps always sends schemaType; Confluent omits it for AVRO");
  });
});
