import assert from "node:assert/strict";
import { clearTimeout, setTimeout } from "../../lib/timers.ts";
import { guard } from "../helpers.ts";

Deno.test("setTimeout calls its function once, with its arguments", async () => {
  const calls: [string, number][] = [];
  const fired = Promise.withResolvers<void>();
  setTimeout(
    (word: string, n: number) => {
      calls.push([word, n]);
      fired.resolve();
    },
    5,
    "bonjour",
    42,
  );
  await guard(fired.promise, "timer");
  // A later timer has fired too: the first one did not fire again meanwhile.
  const later = Promise.withResolvers<void>();
  setTimeout(later.resolve, 20);
  await guard(later.promise, "later timer");
  assert.deepEqual(calls, [["bonjour", 42]]);
});

Deno.test("clearTimeout keeps a timer from firing; clearing twice, or undefined, does nothing", async () => {
  let cleared = 0;
  const timer = setTimeout(() => cleared++, 5);
  clearTimeout(timer);
  clearTimeout(timer);
  clearTimeout(undefined);
  // Timers of a longer delay fire after the cleared one would have.
  const later = Promise.withResolvers<void>();
  setTimeout(later.resolve, 30);
  await guard(later.promise, "later timer");
  assert.equal(cleared, 0);
});

Deno.test("timers fire in the order of their delays, a delay of 0 or less as 1 ms", async () => {
  const order: string[] = [];
  const done = Promise.withResolvers<void>();
  setTimeout(() => {
    order.push("40");
    done.resolve();
  }, 40);
  setTimeout(() => order.push("10"), 10);
  setTimeout(() => order.push("0"), 0);
  setTimeout(() => order.push("-5"), -5);
  await guard(done.promise, "last timer");
  assert.deepEqual(order.slice(2), ["10", "40"]);
  assert.deepEqual(order.slice(0, 2).sort(), ["-5", "0"]);
});

/** Runs `code` (which imports lib/timers.ts) in a fresh Deno, and returns its stdout. */
async function runScript(code: string): Promise<{ stdout: string; success: boolean }> {
  const url = new URL("../../lib/timers.ts", import.meta.url).href;
  const command = new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { clearTimeout, setTimeout } from "${url}";\n${code}`],
    stdout: "piped",
    stderr: "inherit",
  });
  const { stdout, success } = await guard(command.output(), "the script's end");
  return { stdout: new TextDecoder().decode(stdout), success };
}

Deno.test("a timer keeps the program alive until it fires, as Deno's does", async () => {
  const { stdout, success } = await runScript(
    `setTimeout(() => console.log("fired"), 50); console.log("armed");`,
  );
  assert.ok(success);
  assert.equal(stdout, "armed\nfired\n");
});

Deno.test("a cleared timer no longer keeps the program alive", async () => {
  // A minute-long timer, cleared: the program ends well within the guard, having
  // printed its last line.
  const { stdout, success } = await runScript(
    `const t = setTimeout(() => console.log("fired"), 60_000); clearTimeout(t); console.log("cleared");`,
  );
  assert.ok(success);
  assert.equal(stdout, "cleared\n");
});
