/**
 * bare_client.ts -- the runtime's start-up floor for the one-shot clients, for
 * bench.ts: the same socket calls as udp_client.ts and tcp_client.ts, in the
 * same order, with none of lib/ (no flags, no permission checks, no error
 * lines, no line reader). It imports nothing, so what it costs beyond an
 * empty script is the socket work itself.
 *
 *   deno run --allow-net bench/bare_client.ts udp PORT   one datagram to 127.0.0.1:PORT, one line printed
 *   deno run --allow-net bench/bare_client.ts tcp PORT   connect, send, print, shutdown, read until the server closes
 *
 * @module
 */

const [mode, portText] = Deno.args;
const port = Number(portText);
const encoder = new TextEncoder();

if (mode === "udp") {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  const data = encoder.encode("Salut !\n");
  await socket.send(data, { transport: "udp", hostname: "127.0.0.1", port });
  await Deno.stdout.write(
    encoder.encode(`Message envoyé à 127.0.0.1:${port} (${data.length} octets)\n`),
  );
  socket.close();
} else if (mode === "tcp") {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port,
    signal: AbortSignal.timeout(5000),
  });
  const data = encoder.encode("abcdefg!\n");
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
  await Deno.stdout.write(encoder.encode(`${data.length} octets envoyés à 127.0.0.1:${port}\n`));
  await conn.closeWrite();
  const buffer = new Uint8Array(1024);
  const decoder = new TextDecoder();
  for (let n; (n = await conn.read(buffer)) !== null;) {
    const text = decoder.decode(buffer.subarray(0, n)).trim();
    await Deno.stdout.write(encoder.encode(`Serveur: ${text}\n`));
  }
  conn.close();
} else {
  console.error("usage: bare_client.ts udp|tcp PORT");
  Deno.exit(2);
}
