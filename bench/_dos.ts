import avsc from "avsc";
import { readAvro } from "../src/format/avro/tap.js";
const t = avsc.Type.forSchema({ type: "record", name: "R", fields: [{ name: "items", type: { type: "array", items: "string" } }] });
// count = 2^40 (zigzag varint), then nothing
const big = Number(process.argv[2]);
const bytes: number[] = []; let z = big * 2; while (z >= 128) { bytes.push((z % 128) | 0x80); z = Math.floor(z / 128); } bytes.push(z);
const buf = Buffer.from(bytes);
const t0 = Date.now();
try { readAvro(t, buf); console.log("decoded?!"); } catch (e) { console.log("error:", (e as Error).message, Date.now() - t0, "ms"); }
