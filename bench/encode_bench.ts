/**
 * encode_bench.ts -- why print() (encodeLines() in lib/terminal.ts) encodes an ASCII stand-in of its label
 * (`deno bench bench/encode_bench.ts`): Deno encodes text holding a "ç" to
 * UTF-8 many times slower than pure ASCII text of the same length.
 */
const encoder = new TextEncoder();
const out = new Uint8Array(65536);
const line = "x".repeat(99);
const lines = (label: string) => Array.from({ length: 160 }, () => `${label}${line}\n`).join("");
const french = lines("Reçu : ");
const ascii = lines("Re##u : ");

Deno.bench('encodeInto: 16 KiB of lines labelled "Reçu : "', () => {
  encoder.encodeInto(french, out);
});
Deno.bench('encodeInto: the same, ASCII stand-in "Re##u : "', { baseline: true }, () => {
  encoder.encodeInto(ascii, out);
});
