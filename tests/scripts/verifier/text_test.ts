import assert from "node:assert/strict";
import {
  matchReplies,
  printed,
  printedLines,
  quote,
  REPLY,
  splitReplies,
} from "../../../scripts/verifier/text.ts";

Deno.test("matchReplies() accepts replies with or without a line end between them", () => {
  for (
    const received of [`${REPLY}a${REPLY}b`, `${REPLY}a\n${REPLY}b\n`, `${REPLY}a\r\n${REPLY}b`]
  ) {
    assert.equal(matchReplies(received, REPLY, ["a", "b"]), "complete", received);
  }
});

Deno.test("matchReplies() waits while what came can still become the replies", () => {
  assert.equal(matchReplies("", REPLY, ["a"]), "partial");
  assert.equal(matchReplies(REPLY.slice(0, 10), REPLY, ["a"]), "partial");
  assert.equal(matchReplies(`${REPLY}a\n`, REPLY, ["a", "b"]), "partial");
  assert.equal(matchReplies(`${REPLY}0123`, REPLY, ["0123456789"]), "partial");
});

Deno.test("matchReplies() says wrong as soon as what came cannot be the replies", () => {
  assert.equal(matchReplies(`${REPLY}a\nb`, REPLY, ["a", "b"]), "wrong"); // one reply to both
  assert.equal(matchReplies(`${REPLY}caf\uFFFD`, REPLY, ["café"]), "wrong"); // a piece
  assert.equal(matchReplies(`${REPLY}a${REPLY}a`, REPLY, ["a"]), "wrong"); // one reply too many
  assert.equal(matchReplies("Bonjour !", REPLY, ["a"]), "wrong");
});

Deno.test("splitReplies() cuts at each prefix and drops line ends", () => {
  assert.deepEqual(splitReplies(`${REPLY}a\n${REPLY}b`, REPLY), [`${REPLY}a`, `${REPLY}b`]);
  assert.deepEqual(splitReplies(`Salut ${REPLY}a`, REPLY), ["Salut ", `${REPLY}a`]);
  assert.deepEqual(splitReplies("", REPLY), []);
});

Deno.test("quote() shows line ends and shortens long texts with their length", () => {
  assert.equal(quote("a\nb\r\n"), "« a\\nb\\r\\n »");
  const long = quote("x".repeat(200), 60);
  assert.match(long, /^« x{35}…x{15} » \(200 caractères\)$/);
});

Deno.test("printedLines() drops the prompts that input() leaves before each line", () => {
  assert.deepEqual(printedLines(">>> Serveur: a\n>>> >>> Serveur: b\n>>> "), [
    "Serveur: a",
    "Serveur: b",
  ]);
  assert.ok(printed("[12:00] Serveur: a\r\n", "Serveur: a"));
  assert.ok(!printed("Serveur: ab\n", "Serveur: a"));
});
