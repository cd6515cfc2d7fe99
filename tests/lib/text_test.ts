import assert from "node:assert/strict";
import { textOf, visible } from "../../lib/text.ts";

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
