/**
 * bare.ts -- the runtime's own floor for bench.ts: the same socket work as
 * the lessons, with none of the lesson code (no flags, no line splitting, no
 * error lines). What is left is what Deno itself costs.
 *
 *   deno run --allow-net bench/bare.ts line-sink PORT     one client; its bytes, as they are, to stdout
 *   deno run --allow-net bench/bare.ts message-loop PORT  one client; the lessons' loop over messages(), printing nothing
 *   deno run --allow-net bench/bare.ts line-print PORT    one client; each line through `for await` and printed, nothing else
 *   deno run --allow-net bench/bare.ts line-print-async PORT  the same, writing stdout as the lessons do: asynchronously
 *   deno run --allow-net bench/bare.ts echo PORT [-k]     answers each read with the reply and the bytes read
 *   deno run --allow-net bench/bare.ts echo-text PORT     the same, decoding the bytes and encoding the reply text
 *   deno run --allow-net bench/bare.ts echo-lines PORT    the same, with the lessons' LineReader in front
 *   deno run --allow-net bench/bare.ts echo-print PORT    the same, printing each request as the lesson does
 *   deno run --allow-net bench/bare.ts udp PORT           each datagram's bytes to stdout
 *
 * PORT may be 0 (bench.ts passes 0: the kernel picks a free port, and bench.ts
 * reads it in /proc).
 *
 * @module
 */
import { LineReader, messages } from "../lib/lines.ts";

const [mode, portText, keep] = Deno.args;
const port = Number(portText);
const reply = new TextEncoder().encode("Bonjour client, j'ai bien reçu ton message : ");

const encoder = new TextEncoder();

/** The lines of a stream, each as a string, by the leanest `for await` iterator there is. */
function bareLines(conn: Deno.Conn): AsyncIterable<string> {
  const buffer = new Uint8Array(65536 + 4096);
  const decoder = new TextDecoder();
  let lines: string[] = [];
  let at = 0;
  let kept = 0; // bytes of a line not ended yet, at the front of the buffer
  const refill = async (): Promise<IteratorResult<string>> => {
    while (at === lines.length) {
      const n = await conn.read(buffer.subarray(kept));
      if (n === null) return { value: undefined, done: true };
      const end = kept + n;
      const last = buffer.lastIndexOf(10, end - 1);
      if (last < 0) {
        kept = end;
        continue;
      }
      lines = decoder.decode(buffer.subarray(0, last)).split("\n");
      at = 0;
      buffer.copyWithin(0, last + 1, end);
      kept = end - last - 1;
    }
    return { value: lines[at++], done: false };
  };
  const next = (): Promise<IteratorResult<string>> =>
    at < lines.length ? Promise.resolve({ value: lines[at++], done: false }) : refill();
  return { [Symbol.asyncIterator]: () => ({ next }) };
}

/** Writes every byte of `data` to `to` (a connection, or stdout). */
async function writeAll(to: { write(p: Uint8Array): Promise<number> }, data: Uint8Array) {
  for (let sent = 0; sent < data.length;) sent += await to.write(data.subarray(sent));
}

if (mode === "line-sink") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conn = await listener.accept();
  const buffer = new Uint8Array(65536);
  for (let n; (n = await conn.read(buffer)) !== null;) {
    const chunk = buffer.subarray(0, n);
    for (let done = 0; done < n;) done += Deno.stdout.writeSync(chunk.subarray(done));
  }
  conn.close();
} else if (mode === "message-loop") {
  // The floor of the lessons' shape: tcp_server.ts's loop, without print.
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conn = await listener.accept();
  let count = 0;
  for await (const message of messages(conn)) if (message.text.trim() !== "") count++;
  conn.close();
  if (count === 0) console.error("no message");
} else if (mode === "line-print" || mode === "line-print-async") {
  // The floor of the lessons' shape: each line handed out by `for await` as
  // text and printed with its label, and nothing else (no control characters
  // shown, no quiet time). The label is "Recu :", so that the encoding stays
  // pure ASCII: cheaper than "Reçu :". line-print writes stdout with blocking
  // writes; line-print-async as the lessons do, with asynchronous writes (a
  // stdout that stops reading must not block the program), one under way
  // while the next lines are gathered.
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conn = await listener.accept();
  const outs = [new Uint8Array(1 << 18), new Uint8Array(1 << 18)];
  let which = 0;
  let writing = Promise.resolve();
  let parts: string[] = [];
  let chars = 0;
  const flush = async () => {
    const out = outs[which ^= 1]; // not the one that the write under way uses
    const { written } = encoder.encodeInto(parts.join(""), out);
    parts = [];
    chars = 0;
    if (mode === "line-print") {
      for (let done = 0; done < written;) {
        done += Deno.stdout.writeSync(out.subarray(done, written));
      }
      return;
    }
    await writing;
    writing = (async () => {
      for (let done = 0; done < written;) {
        done += await Deno.stdout.write(out.subarray(done, written));
      }
    })();
  };
  for await (const line of bareLines(conn)) {
    const text = line.trim();
    parts.push("Recu : ", text, "\n");
    chars += text.length + 8;
    if (chars > 65536) await flush();
  }
  await flush();
  await writing;
  conn.close();
} else if (mode === "echo") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const serve = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(4096);
    const out = new Uint8Array(reply.length + buffer.length);
    out.set(reply);
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        out.set(buffer.subarray(0, n), reply.length);
        await writeAll(conn, out.subarray(0, reply.length + n));
      }
    } catch { /* a client that leaves: nothing to say */ }
    conn.close();
  };
  if (keep === "-k") { for await (const conn of listener) serve(conn); }
  else await serve(await listener.accept());
} else if (mode === "echo-print") {
  // The echo-lines step, printing each request with its label as the lesson does, by
  // the leanest asynchronous print there is: the lines of the next 5 ms gathered (Deno's
  // own timer), one write under way at most, written in one go.
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conn = await listener.accept();
  const text = "Bonjour client, j'ai bien reçu ton message : ";
  let parts: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing = false;
  const flush = async () => {
    timer = undefined;
    if (writing) return; // the write under way takes these lines next
    writing = true;
    while (parts.length > 0) {
      const bytes = encoder.encode(parts.join(""));
      parts = [];
      await writeAll(Deno.stdout, bytes);
    }
    writing = false;
  };
  try {
    const lines = new LineReader(conn);
    for (let batch; (batch = await lines.read()) !== null;) {
      for (const message of batch) parts.push("Reçu : ", message.text.trim(), "\n");
      if (timer === undefined && !writing) timer = setTimeout(flush, 5);
      await writeAll(conn, encoder.encode(batch.map((m) => `${text}${m.text}\n`).join("")));
    }
  } catch { /* the client left after "quit": nothing to say */ }
  if (timer !== undefined) clearTimeout(timer);
  await flush();
  conn.close();
} else if (mode === "echo-text" || mode === "echo-lines") {
  // Steps between the bare floor and the lesson, to see what each one costs.
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conn = await listener.accept();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const text = "Bonjour client, j'ai bien reçu ton message : ";
  try {
    if (mode === "echo-lines") {
      const lines = new LineReader(conn);
      for (let batch; (batch = await lines.read()) !== null;) {
        await writeAll(conn, encoder.encode(batch.map((m) => `${text}${m.text}\n`).join("")));
      }
    } else {
      const buffer = new Uint8Array(4096);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        await writeAll(conn, encoder.encode(text + decoder.decode(buffer.subarray(0, n))));
      }
    }
  } catch { /* the client left after "quit": nothing to say */ }
  conn.close();
} else if (mode === "udp") {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  console.log(`Serveur UDP en attente sur le port ${(socket.addr as Deno.NetAddr).port}...`);
  const buffer = new Uint8Array(1025);
  while (true) {
    const [data] = await socket.receive(buffer);
    Deno.stdout.writeSync(data);
  }
}
