import assert from "node:assert/strict";
import {
  type ByteReader,
  CONTINUED,
  LineReader,
  MAX_BATCH_BYTES,
  type Message,
  messages,
  shown,
  stopReaders,
} from "../../lib/lines.ts";
import { seededRandom } from "../helpers.ts";

const encoder = new TextEncoder();

/** A byte stream fed by the test: each `push` is what one `read` returns. */
class FakeStream implements ByteReader {
  #chunks: (Uint8Array | null | Error)[] = [];
  #wake: (() => void) | null = null;
  reads = 0;

  push(chunk: string | Uint8Array | null | Error): void {
    this.#chunks.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    this.#wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    while (this.#chunks.length === 0) await new Promise<void>((r) => this.#wake = r);
    this.#wake = null;
    const chunk = this.#chunks.shift()!;
    if (chunk === null) return null;
    if (chunk instanceof Error) throw chunk;
    if (chunk.length > p.length) this.#chunks.unshift(chunk.subarray(p.length));
    p.set(chunk.subarray(0, p.length));
    return Math.min(chunk.length, p.length);
  }
}

/**
 * A batch as plain `{ text, end }` objects, once
 * each message's `eol` is checked against its `end`.
 */
function plain(batch: Message[] | null): Pick<Message, "text" | "end">[] | null {
  return batch && batch.map(({ text, end, eol }) => {
    assert.equal(eol, end === "newline" || end === "cut" ? "\n" : "", `eol of ${text}`);
    return { text, end };
  });
}

/** Reads every message until the end of the stream. */
async function readAll(reader: LineReader): Promise<Pick<Message, "text" | "end">[]> {
  const all: Pick<Message, "text" | "end">[] = [];
  for (let batch; (batch = await reader.read()) !== null;) all.push(...plain(batch)!);
  return all;
}

function fed(chunks: (string | Uint8Array)[]): FakeStream {
  const stream = new FakeStream();
  for (const chunk of chunks) stream.push(chunk);
  stream.push(null);
  return stream;
}

Deno.test("LineReader splits two lines that arrive in one read", async () => {
  const reader = new LineReader(fed(["un\ndeux\n"]));
  assert.deepEqual(plain(await reader.read()), [
    { text: "un", end: "newline" },
    { text: "deux", end: "newline" },
  ]);
  assert.equal(await reader.read(), null);
});

Deno.test("LineReader joins a line that arrives in two reads", async () => {
  const messages = await readAll(new LineReader(fed(["bon", "jour\nà ", "demain\n"])));
  assert.deepEqual(messages.map((m) => m.text), ["bonjour", "à demain"]);
});

Deno.test("LineReader keeps a UTF-8 character cut between two reads", async () => {
  const bytes = encoder.encode("é€😀\n");
  for (let cut = 1; cut < bytes.length - 1; cut++) {
    const messages = await readAll(
      new LineReader(fed([bytes.subarray(0, cut), bytes.subarray(cut)])),
    );
    assert.deepEqual(messages, [{ text: "é€😀", end: "newline" }], `cut at ${cut}`);
  }
});

Deno.test("LineReader removes the \\r of \\r\\n, even cut between two reads", async () => {
  const messages = await readAll(new LineReader(fed(["a\r\nb\r", "\nc\r\n"])));
  assert.deepEqual(messages.map((m) => m.text), ["a", "b", "c"]);
});

Deno.test("LineReader gives a last line without newline at the end of the stream", async () => {
  const messages = await readAll(new LineReader(fed(["a\nlast"])));
  assert.deepEqual(messages, [{ text: "a", end: "newline" }, { text: "last", end: "eof" }]);
});

Deno.test("LineReader keeps empty lines", async () => {
  const messages = await readAll(new LineReader(fed(["\n\nx\n"])));
  assert.deepEqual(messages.map((m) => m.text), ["", "", "x"]);
});

Deno.test("LineReader replaces invalid UTF-8 with U+FFFD and goes on", async () => {
  const bad = new Uint8Array([0x61, 0xff, 0x00, 0xed, 0xa0, 0x80, 0x62, 0x0a, 0xe2, 0x82]);
  const messages = await readAll(
    new LineReader(fed([bad, "\nok\n", new Uint8Array([0xf0, 0x9f])])),
  );
  assert.equal(messages[0].text, "a\uFFFD\u0000\uFFFD\uFFFD\uFFFDb");
  assert.equal(messages[1].text, "\uFFFD");
  assert.equal(messages[2].text, "ok");
  assert.deepEqual(messages[3], { text: "\uFFFD", end: "eof" }); // cut character at the end
});

Deno.test("LineReader gives a partial line after the quiet time, and keeps the pending read", async () => {
  const stream = new FakeStream();
  const reader = new LineReader(stream, { quietMs: 20 });
  stream.push("bonjour"); // like the workshop's Python client: no newline
  assert.deepEqual(plain(await reader.read()), [{ text: "bonjour", end: "quiet" }]);
  assert.equal(stream.reads, 2, "one read in flight, not a second one beside it");
  stream.push("\nsuite\n"); // the newline of a message already given is not an empty line
  assert.deepEqual(plain(await reader.read()), [{ text: "suite", end: "newline" }]);
  assert.equal(stream.reads, 2);
  stream.push(null);
  assert.equal(await reader.read(), null);
});

Deno.test("LineReader with quietMs 0 waits for the newline", async () => {
  const stream = new FakeStream();
  const reader = new LineReader(stream, { quietMs: 0 });
  stream.push("bon");
  const next = reader.read();
  stream.push("jour\n");
  assert.deepEqual(plain(await next), [{ text: "bonjour", end: "newline" }]);
});

Deno.test("LineReader cuts a line longer than maxLine and marks the pieces", async () => {
  const messages = await readAll(
    new LineReader(fed(["abcdefghij", "klm\nxy\n"]), { maxLine: 4, readSize: 5 }),
  );
  assert.deepEqual(messages, [
    { text: "abcd", end: "cut" },
    { text: "efgh", end: "cut" },
    { text: "ijkl", end: "cut" },
    { text: "m", end: "newline" },
    { text: "xy", end: "newline" },
  ]);
  assert.equal(shown(messages[0]), "abcd" + CONTINUED);
  assert.equal(shown(messages[3]), "m");
});

Deno.test("LineReader never cuts a UTF-8 character in two", async () => {
  const messages = await readAll(new LineReader(fed(["ab😀c\n"]), { maxLine: 4 }));
  assert.deepEqual(messages.map((m) => m.text), ["ab", "😀", "c"]);
});

Deno.test("LineReader rethrows a failed read, then reports the end", async () => {
  const reader = new LineReader(fed(["a\n"]));
  const stream = new FakeStream();
  const broken = new LineReader(stream);
  stream.push(new Deno.errors.ConnectionReset("reset"));
  await assert.rejects(broken.read(), Deno.errors.ConnectionReset);
  assert.equal(await broken.read(), null);
  assert.deepEqual(plain(await reader.read()), [{ text: "a", end: "newline" }]);
});

Deno.test("LineReader hands out the partial line before reporting a reset", async () => {
  const stream = new FakeStream();
  const reader = new LineReader(stream);
  stream.push("complète\ncoupée en plein");
  stream.push(new Deno.errors.ConnectionReset("reset"));
  assert.deepEqual(plain(await reader.read()), [{ text: "complète", end: "newline" }]);
  assert.deepEqual(plain(await reader.read()), [{ text: "coupée en plein", end: "eof" }]);
  await assert.rejects(reader.read(), Deno.errors.ConnectionReset);
  assert.equal(await reader.read(), null);
});

Deno.test("LineReader keeps no memory per read: 200,000 reads leave the heap as it was", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "tests/fixtures/reader_memory.ts", "200000"],
    stderr: "inherit",
  }).output();
  assert.ok(success);
  const growth = Number(new TextDecoder().decode(stdout));
  // Racing each read against one promise that lives as long as the reader kept
  // about 300 bytes per read: 60 MiB here.
  assert.ok(growth < 4 * 2 ** 20, `the heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
});

Deno.test("LineReader.readLine() hands out one message at a time", async () => {
  const reader = new LineReader(fed(["a\nb\nc"]));
  assert.equal((await reader.readLine())?.text, "a");
  assert.equal((await reader.readLine())?.text, "b");
  assert.deepEqual(await reader.readLine(), { text: "c", eol: "", end: "eof" });
  assert.equal(await reader.readLine(), null);
});

// Property: whatever the input and however it is cut into reads, joining the
// messages gives the input back. 10,000 seeded cases; the seed replays a failure.
const PIECES = ["a", "Z", " ", "é", "€", "😀", "\n", "\n", "\r\n", "\r", "ligne", "\u0000"];

Deno.test("LineReader gives back any input exactly, however it is cut (10,000 seeded cases)", async () => {
  const random = seededRandom(20261129);
  for (let round = 0; round < 10_000; round++) {
    let input = "";
    const length = Math.floor(random() * 60);
    for (let i = 0; i < length; i++) input += PIECES[Math.floor(random() * PIECES.length)];
    const bytes = encoder.encode(input);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) {
      const size = 1 + Math.floor(random() * 8);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    const small = random() < 0.5; // half the rounds cut long lines at 5 characters
    const options = {
      quietMs: 0,
      maxLine: small ? 5 : 65536,
      readSize: 1 + Math.floor(random() * 16),
    };
    const messages = await readAll(new LineReader(fed(chunks), options));
    const joined = messages.map((m) => m.text + (m.end === "newline" ? "\n" : "")).join("");
    // The one change the reader makes: the "\r" of a "\r\n", or of a last line, goes.
    const expected = small ? null : input.replaceAll("\r\n", "\n").replace(/\r$/, "");
    if (expected !== null) {
      assert.equal(joined, expected, `seed round ${round}: ${JSON.stringify(input)}`);
    } else {
      assert.equal(
        joined.replaceAll("\r", ""),
        input.replaceAll("\r", ""),
        `seed round ${round}: ${JSON.stringify(input)}`,
      );
      for (const m of messages) {
        assert.ok(encoder.encode(m.text).length <= 5, "no piece longer than maxLine bytes");
      }
    }
  }
});

Deno.test("LineReader hands out at most MAX_BATCH_BYTES of lines at once, and every line in order", async () => {
  const stream = new FakeStream();
  const reader = new LineReader(stream, { readSize: 65536 });
  const count = 10_000; // "0\n" to "9999\n": about 49 KB in one read
  stream.push(Array.from({ length: count }, (_, i) => `${i}\n`).join(""));
  stream.push("une ligne plus longue que la limite : " + "x".repeat(2 * MAX_BATCH_BYTES) + "\n");
  stream.push(null);
  const all: Message[] = [];
  for (let batch; (batch = await reader.read()) !== null;) {
    const bytes = batch.reduce((sum, m) => sum + encoder.encode(m.text).length + 1, 0);
    assert.ok(batch.length === 1 || bytes <= MAX_BATCH_BYTES, `${bytes} bytes in one batch`);
    all.push(...batch);
  }
  assert.equal(all.length, count + 1);
  assert.deepEqual(
    all.slice(0, count).map((m) => m.text),
    Array.from({ length: count }, (_, i) => String(i)),
  );
  assert.match(all[count].text, /^une ligne plus longue .* x+$/, "a long line comes out whole");
  assert.equal(stream.reads, 3, "the lines left in the buffer were handed out without reading");
});

Deno.test("messages() shows control characters, and says whether each message ended with a newline", async () => {
  const stream = new FakeStream();
  const received = messages(stream, { quietMs: 0 });
  stream.push("a\x1bb\r\nc\rd\nfin");
  stream.push(null);
  const all = [];
  for await (const { text, eol } of received) all.push({ text, eol });
  assert.deepEqual(all, [
    { text: "a\\x1bb", eol: "\n" },
    { text: "c\\rd", eol: "\n" },
    { text: "fin", eol: "" },
  ]);
});

Deno.test("stopReaders() makes a waiting messages() hand out its partial line, then wait for ever", async () => {
  const stream = new FakeStream();
  const received = messages(stream, { quietMs: 0 });
  stream.push("entière\nà moi");
  const first = await received.read();
  assert.deepEqual([first?.text, first?.eol], ["entière", "\n"]);
  const next = received.read(); // waits: "à moi" has no newline yet
  const stopped = stopReaders();
  const last = await next;
  assert.deepEqual([last?.text, last?.eol], ["à moi", ""]);
  const after = received.read(); // the one after the stop never settles
  await stopped; // settles once the loop came back for more
  const settled = await Promise.race([after.then(() => true), Promise.resolve(false)]);
  assert.equal(settled, false);
});

Deno.test("messages() goes from whole lines to a partial line's quiet time and back", async () => {
  const stream = new FakeStream();
  const received = messages(stream, { quietMs: 20 });
  stream.push("un\n");
  assert.deepEqual(await received.read(), { text: "un", eol: "\n", end: "newline" });
  stream.push("sans fin");
  assert.deepEqual(await received.read(), { text: "sans fin", eol: "", end: "quiet" });
  stream.push("\ndeux\ntrois\n"); // the newline that came late ends nothing more
  assert.deepEqual(await received.read(), { text: "deux", eol: "\n", end: "newline" });
  assert.deepEqual(await received.read(), { text: "trois", eol: "\n", end: "newline" });
  stream.push(null);
  assert.equal(await received.read(), null);
});

Deno.test("messages() hands a failed read to the loop after the messages before it", async () => {
  const stream = new FakeStream();
  const received = messages(stream, { quietMs: 0 });
  stream.push("avant\n");
  stream.push(new Deno.errors.ConnectionReset("reset"));
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const { text } of received) seen.push(text);
  }, Deno.errors.ConnectionReset);
  assert.deepEqual(seen, ["avant"]);
});

Deno.test("stop() stops a messages() that waits between lines: it then waits for ever", async () => {
  const stream = new FakeStream();
  const received = messages(stream, { quietMs: 0 });
  stream.push("seule\n");
  assert.equal((await received.read())?.text, "seule");
  const next = received.read(); // waits for a read, with nothing kept
  await received.stop(); // settles once the loop came back for more, with nothing to hand out
  const settled = await Promise.race([next.then(() => true), Promise.resolve(false)]);
  assert.equal(settled, false);
});
