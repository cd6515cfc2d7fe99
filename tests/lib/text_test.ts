import assert from "node:assert/strict";
import { CONTROL, hasControl, textOf, visible } from "../../lib/text.ts";

Deno.test("visible() shows control characters as cat -v would, and keeps tab and text", () => {
  assert.equal(
    visible("a\rb\nc\x1b[31md\x00\x7f\u009b\té"),
    "a\\rb\\nc\\x1b[31md\\x00\\x7f\\u009b\té",
  );
  const plain = "Reçu : rien à voir";
  assert.equal(visible(plain), plain);
});

Deno.test("textOf() decodes UTF-8, strips surrounding spaces, then shows controls", () => {
  const bytes = new Uint8Array([0x20, 0x68, 0xc3, 0xa9, 0x0d, 0x78, 0xff, 0x0a]);
  assert.equal(textOf(bytes), "hé\\rx\uFFFD");
  assert.equal(
    textOf(new TextEncoder().encode("hello\n[10.9.9.9:4444] forged\n")),
    "hello\\n[10.9.9.9:4444] forged",
  );
});

Deno.test("hasControl() agrees with CONTROL on the decoded text (20,000 seeded cases)", () => {
  // Bytes drawn mostly from the edges: C0, tab, "\n", DEL, C2 + C1, other UTF-8, bad bytes.
  const pool = [0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x20, 0x41, 0x7e, 0x7f, 0x80, 0x9f, 0xa0];
  const more = [0xc2, 0xc3, 0xe2, 0xef, 0xbf, 0xff];
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64);
  for (let i = 0; i < 20_000; i++) {
    for (let k = 0; k < buffer.length; k++) {
      const r = random(10);
      buffer[k] = r < 6 ? 0x61 : r < 8 ? pool[random(pool.length)] : more[random(more.length)];
    }
    const from = random(8);
    const bytes = buffer.subarray(from, from + random(buffer.length - from + 1));
    assert.equal(hasControl(bytes), CONTROL.test(decoder.decode(bytes)), `bytes ${bytes}`);
  }
  assert.equal(hasControl(new TextEncoder().encode("Reçu : rien à voir\t\n".repeat(9))), false);
  assert.equal(hasControl(new TextEncoder().encode("x".repeat(37) + "\u0085")), true);
});
