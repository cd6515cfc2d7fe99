import assert from "node:assert/strict";
import { encodeLines } from "../../lib/terminal.ts";
import { guard } from "../helpers.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const expected = (labels: string[], rests: string[]) =>
  rests.map((rest, i) => (labels[i] === "" ? rest : `${labels[i]} ${rest}`) + "\n").join("");

Deno.test("encodeLines() gives the same bytes as a plain encoding, fast path or not", () => {
  const cases: [string[], string[]][] = [
    // -k with many clients: more labels than the stand-in cache keeps, each client in turn.
    [
      Array.from({ length: 5000 }, (_, i) => `[127.0.0.1:${40000 + i}] Reçu :`),
      Array.from({ length: 5000 }, (_, i) => `client ${i}`),
    ],
    // Many ASCII lines under one French label: the stand-in path.
    [Array(20).fill("Reçu :"), Array.from({ length: 20 }, (_, i) => `ligne ${i}`)],
    // Two clients' labels, and lines without a label.
    [
      Array.from(
        { length: 12 },
        (_, i) => i % 3 === 2 ? "" : `[127.0.0.1:${4000 + (i % 2)}] Reçu :`,
      ),
      Array.from({ length: 12 }, (_, i) => `m${i}`),
    ],
    // Labels with characters of 2, 3 and 4 bytes, in runs and alone.
    [
      Array.from({ length: 16 }, (_, i) => ["Reçu :", "Élève → 😀 :", "", "Réponse"][(i >> 1) % 4]),
      Array.from({ length: 16 }, (_, i) => "x".repeat(i)),
    ],
    // Text that is not ASCII: the plain path, after the fast one gave up.
    [Array(10).fill("Reçu :"), Array.from({ length: 10 }, (_, i) => `été ${i} 😀`)],
    // Few lines: the plain path at once.
    [["Reçu :", ""], ["un", "Client connecté"]],
  ];
  for (const [labels, rests] of cases) {
    assert.equal(decode(encodeLines(labels, rests)), expected(labels, rests));
  }
});

Deno.test("exitNow() writes the lines that print() still holds, then exits with its code", async () => {
  // The lines are printed and the program exits in the same turn: no flush has
  // run yet, so Deno.exit() alone would drop them all.
  const url = new URL("../../lib/terminal.ts", import.meta.url).href;
  const code = `import { exitNow, print } from "${url}";\n` +
    `for (let i = 0; i < 100; i++) print("Reçu :", "ligne " + i);\nexitNow(3);`;
  const command = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  });
  const { stdout, stderr, code: exitCode } = await guard(command.output(), "the script's end");
  assert.equal(new TextDecoder().decode(stderr), "");
  assert.equal(exitCode, 3);
  assert.equal(
    decode(stdout),
    Array.from({ length: 100 }, (_, i) => `Reçu : ligne ${i}\n`).join(""),
  );
});
