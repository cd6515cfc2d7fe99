/**
 * lines_bench.ts -- micro-benchmarks of the line reader (`deno bench bench/`).
 * Each case reads 4 MiB from memory in 64 KiB chunks, the way a socket delivers them.
 */
import { LineReader } from "../lib/lines.ts";

const encoder = new TextEncoder();
const TOTAL = 4 * 1024 * 1024;

/** A reader that hands out `data` again and again, `chunk` bytes at a time, `total` bytes in all. */
function memoryStream(data: Uint8Array, chunk: number, total: number) {
  let given = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (given >= total) return Promise.resolve(null);
      const n = Math.min(chunk, p.length, total - given);
      for (let k = 0; k < n;) {
        const from = (given + k) % data.length;
        const part = Math.min(n - k, data.length - from);
        p.set(data.subarray(from, from + part), k);
        k += part;
      }
      given += n;
      return Promise.resolve(n);
    },
  };
}

async function drain(data: Uint8Array) {
  const reader = new LineReader(memoryStream(data, 65536, TOTAL), { quietMs: 0 });
  let lines = 0;
  for (let batch; (batch = await reader.read()) !== null;) lines += batch.length;
  return lines;
}

const ascii = encoder.encode(("x".repeat(99) + "\n").repeat(1000));
const french = encoder.encode(
  ("Ça va très bien, merci à vous ! " + "é".repeat(60) + "\n").repeat(1000),
);
const crlf = encoder.encode(("x".repeat(98) + "\r\n").repeat(1000));

Deno.bench("LineReader: 4 MiB of 100-byte ASCII lines", { baseline: true }, async () => {
  await drain(ascii);
});
Deno.bench("LineReader: 4 MiB of French lines (accents)", async () => {
  await drain(french);
});
Deno.bench("LineReader: 4 MiB of \\r\\n lines", async () => {
  await drain(crlf);
});
Deno.bench("LineReader: 4 MiB without a newline (cut at 64 KiB)", async () => {
  await drain(encoder.encode("x".repeat(100_000)));
});

// Request-reply traffic: one short message per read. The time per iteration,
// divided by 10,000, is what the reader adds to each round trip.
const messages = Array.from({ length: 10_000 }, (_, i) => encoder.encode(`message ${i}\n`));
Deno.bench("LineReader: 10,000 short messages, one per read (request-reply)", async () => {
  let k = 0;
  const reader = new LineReader({
    read(p: Uint8Array): Promise<number | null> {
      if (k === messages.length) return Promise.resolve(null);
      p.set(messages[k]);
      return Promise.resolve(messages[k++].length);
    },
  });
  while ((await reader.read()) !== null);
});
