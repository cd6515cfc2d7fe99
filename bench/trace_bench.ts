/**
 * trace_bench.ts -- what `--trace` costs a TCP read loop, and what it costs
 * without the flag: nothing, since the programs then get Deno's own objects.
 *
 *   deno bench --allow-net bench/trace_bench.ts 2>/dev/null    (the trace goes to stderr)
 *
 * Each case reads 16 MiB, in 64 KiB reads, from a loopback connection that
 * a sender of this process keeps full. "Deno's own" is the connection that
 * a program gets without `--trace`; "traced" is the one it gets with it.
 */
import { installTrace } from "../lib/trace.ts";

const TOTAL = 16 << 20;
const ownListen = Deno.listen;
const ownConnect = Deno.connect;

/** A connection whose peer sends for ever, opened with `connect`. */
async function stream(connect: typeof Deno.connect): Promise<Deno.Conn> {
  const listener = ownListen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const conn = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const sender = await accepted;
  listener.close();
  const chunk = new Uint8Array(1 << 16).fill(0x78);
  (async () => {
    try {
      while (true) await sender.write(chunk);
    } catch {
      // The bench is over: its connection was dropped with the process.
    }
  })();
  return conn;
}

/** Reads TOTAL bytes from `conn`. */
async function drain(conn: Deno.Conn, buffer: Uint8Array): Promise<void> {
  for (let got = 0; got < TOTAL;) got += (await conn.read(buffer)) ?? 0;
}

const own = await stream(ownConnect);
installTrace(); // what readFlags() does on --trace
const traced = await stream(Deno.connect);
const buffer = new Uint8Array(1 << 16);

Deno.bench("read 16 MiB: Deno's own connection (the programs without --trace)", {
  baseline: true,
  group: "read",
}, async () => {
  await drain(own, buffer);
});

Deno.bench("read 16 MiB: traced connection (--trace)", { group: "read" }, async () => {
  await drain(traced, buffer);
});
