import assert from "node:assert/strict";
import { parseCommandLine } from "../../../scripts/verifier/cli.ts";

const EXERCISES = ["ex1-serveur", "ex1-client", "ex2-serveur", "ex2-client"];

Deno.test("parseCommandLine() keeps everything after -- for the student's command", () => {
  assert.deepEqual(
    parseCommandLine(
      ["ex1-client", "--json", "--", "deno", "run", "--port", "9", "c.ts"],
      EXERCISES,
    ),
    {
      options: {
        exercise: "ex1-client",
        port: 5000,
        json: true,
        command: ["deno", "run", "--port", "9", "c.ts"],
      },
    },
  );
});

Deno.test("parseCommandLine() reads --port", () => {
  const parsed = parseCommandLine(
    ["ex2-serveur", "--port", "6000", "--", "python3", "s.py"],
    EXERCISES,
  );
  assert.equal("options" in parsed && parsed.options.port, 6000);
});

Deno.test("parseCommandLine() rejects port 70000 and a port that is not a number", () => {
  for (const port of ["70000", "0", "5e3", "abc"]) {
    const parsed = parseCommandLine(["ex1-serveur", "--port", port, "--", "x"], EXERCISES);
    assert.ok("error" in parsed && parsed.error.startsWith(`port invalide « ${port} »`), port);
  }
});

Deno.test("parseCommandLine() takes --help and -h before anything else", () => {
  assert.deepEqual(parseCommandLine(["--help"], EXERCISES), { help: true });
  assert.deepEqual(parseCommandLine(["ex9", "-h"], EXERCISES), { help: true });
});
