export { createContractStore, type ContractStore, type ContractStoreOptions, type ResolvedContract } from "./contracts.js";
export { createSerializer, type Serializer, type SerializerOptions, type SerializeResult, type WriterSchema } from "./serializer.js";
export { createDeserializer, type Deserializer, type DeserializerOptions, type DeserializeResult, type ReaderSchema, type TopicDeserializer } from "./deserializer.js";
export { subjectName, type SubjectNameStrategy } from "./subject.js";
export { fromJavaConfig, type JavaConfig, type JavaConfigOptions, type JavaConfigValue } from "./java-config.js";
