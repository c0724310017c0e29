/**
 * Subject name strategies, as in the Confluent clients.
 */
export type SubjectNameStrategy = "topic" | "record" | "topic-record" | ((topic: string, isKey: boolean, recordName: string | undefined) => string);

export function subjectName(strategy: SubjectNameStrategy, topic: string, isKey: boolean, recordName: string | undefined): string {
  if (typeof strategy === "function") return strategy(topic, isKey, recordName);
  switch (strategy) {
    case "topic":
      return `${topic}-${isKey ? "key" : "value"}`;
    case "record":
      return requireRecord(strategy, recordName);
    case "topic-record":
      return `${topic}-${requireRecord(strategy, recordName)}`;
  }
}

function requireRecord(strategy: string, recordName: string | undefined): string {
  if (!recordName) throw new TypeError(`subject name strategy "${strategy}" needs the record name (options.recordName)`);
  return recordName;
}
