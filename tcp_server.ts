#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * tcp_server.ts -- the workshop's TCP server: prints every line a client sends.
 *
 * Run:  deno run --allow-net tcp_server.ts          (add -k to serve many clients)
 * Try:  nc 127.0.0.1 8888                           (from a second terminal, then type)
 *
 * TCP gives us a byte stream, not messages: the `LineReader` splits it on "\n"
 * and keeps a partial line until the rest arrives (see lines.ts).
 */
import { readFlags } from "./flags.ts";
import { acceptFailed, connectionLost, exitOnErrors } from "./errors.ts";
import { LineReader } from "./lines.ts";
import { closeAll, formatAddr, onStop, print, printError, printLines } from "./terminal.ts";

// 1. Read the flags: listen on every interface, port 8888, as in the workshop.
const flags = readFlags({
  program: "tcp_server.ts",
  purpose: "serveur TCP de l'atelier : affiche chaque ligne reçue d'un client.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 8888, keepOpen: false },
  example: "nc 127.0.0.1 8888",
});
exitOnErrors({ program: "tcp_server.ts", ...flags });

// 2. Open the listening socket: socket() + bind() + listen() in one call.
const listener = Deno.listen({ hostname: flags.host, port: flags.port });

// Ctrl+C or SIGTERM: close every socket we hold, then leave.
const clients = new Set<Deno.Conn>();
onStop(() => {
  closeAll([listener, ...clients]);
  console.log("Fin du programme");
  Deno.exit(0);
});
// Only now say that we are ready: a Ctrl+C from here on is handled.
console.log(`Serveur TCP en attente de connexion sur le port ${listener.addr.port}...`);

// 3. Accept clients. Each `accept` returns a new socket for one conversation;
// the listener itself never carries data.
while (true) {
  let conn: Deno.Conn;
  try {
    conn = await listener.accept();
  } catch (err) {
    // accept() can fail and the server must live on: a client may reset its
    // connection before we take it, or the process may have no file
    // descriptor left for one more (then we wait for some to be freed).
    await acceptFailed(err);
    continue;
  }
  if (!flags.keepOpen) {
    // The workshop serves one client, then stops: close the door behind it,
    // so that a second client is refused instead of waiting forever.
    listener.close();
    const ok = await serve(conn, "");
    Deno.exit(ok ? 0 : 1);
  }
  // With -k, every client is served at the same time: no `await` here. Each
  // line is prefixed with its client's address, so that we know who said what.
  serve(conn, `[${formatAddr(conn.remoteAddr)}] `);
}

/** Prints what one client sends until it hangs up. Returns false if the connection broke. */
async function serve(conn: Deno.Conn, prefix: string): Promise<boolean> {
  clients.add(conn);
  print(`${prefix}Client connecté : ${formatAddr(conn.remoteAddr)}\n`);
  const lines = new LineReader(conn);
  try {
    // `read` gives the lines that one `conn.read` completed, or null when the
    // client has closed its side (recv() returned 0 bytes: end of stream).
    for (let batch; (batch = await lines.read()) !== null;) {
      // One write for the whole batch: much faster than one console.log per line.
      printLines(`${prefix}Reçu : `, batch);
    }
    print(`${prefix}Déconnecté\n`);
    return true;
  } catch (err) {
    // A reset (RST) or a vanished client: say so, and keep serving the others.
    printError(`Erreur: ${connectionLost(err) ?? err} (client ${formatAddr(conn.remoteAddr)})`);
    return false;
  } finally {
    clients.delete(conn);
    conn.close();
  }
}
