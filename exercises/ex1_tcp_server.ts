#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex1_tcp_server.ts -- exercice 1, serveur : répond à chaque message d'un client TCP.
 *
 * Lancer :   deno run --allow-net exercises/ex1_tcp_server.ts   (ajoutez -k pour plusieurs clients)
 * Essayer :  nc 127.0.0.1 5000                                  (depuis un second terminal, puis tapez)
 */
import { readFlags } from "../lib/flags.ts";
import { clientLost } from "../lib/errors.ts";
import { formatAddr } from "../lib/ip.ts";
import { messages } from "../lib/lines.ts";
import { acceptOrWait, writeAll } from "../lib/net.ts";
import { onStop, print } from "../lib/terminal.ts";

/** La réponse de l'atelier, suivie du message. */
const REPONSE = "Bonjour client, j'ai bien reçu ton message : ";

// 1. Les options : toutes les interfaces, port 5000, un seul client, comme dans l'atelier.
const flags = readFlags({
  transport: "tcp",
  purpose: "exercice 1, serveur TCP : répond à chaque message d'un client.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 5000, keepOpen: false },
  example: "nc 127.0.0.1 5000",
});

// 2. La socket d'écoute : socket() + bind() + listen().
const listener = Deno.listen({ hostname: flags.host, port: flags.port });
onStop("Fin de la conversation", listener); // Ctrl+C
print(`Serveur TCP en attente de connexion sur le port ${listener.addr.port}...`);

// 3. accept() renvoie une nouvelle socket par client : un seul client, comme
// dans l'atelier, ou avec -k plusieurs à la fois, chacun dans sa conversation.
while (true) {
  const conn = await acceptOrWait(listener); // listener.accept(), qui survit aux clients pressés
  if (!flags.keepOpen) {
    listener.close(); // les clients suivants sont refusés au lieu d'attendre pour rien
    Deno.exitCode = await converse(conn, "") ? 0 : 1; // 1 si la connexion a cassé
    break;
  }
  converse(conn, `[${formatAddr(conn.remoteAddr)}] `); // pas d'await : les autres continuent
}

/** Une conversation : lire un message, y répondre, jusqu'à "quit". false si la connexion a cassé. */
async function converse(conn: Deno.Conn, prefix: string): Promise<boolean> {
  using _ = conn; // fermée en sortant, comme `with conn:` en Python
  if (prefix) print(`${prefix}Client connecté`); // avec -k, le préfixe dit déjà qui est là
  else print("Client connecté :", formatAddr(conn.remoteAddr));
  try {
    // TCP est un flux d'octets : « un message » doit être défini. Ici c'est une
    // ligne, ou ce qu'un client sans "\n" a envoyé avant une courte pause.
    for await (const message of messages(conn)) {
      const text = message.text.trim();
      print(`${prefix}Reçu :`, text);
      if (text === "quit") break; // le client dit au revoir : pas de réponse
      // La réponse finit par "\n" seulement si la demande aussi : nc l'affiche
      // sur sa ligne, et le client Python de l'atelier reçoit ce qu'il attend.
      // writeAll : comme sendall(), car write() peut n'envoyer qu'une partie.
      await writeAll(conn, REPONSE + text + message.eol);
    }
  } catch (err) {
    return clientLost(err, conn); // une ligne en français ; les autres clients continuent
  }
  print(`${prefix}Fin de la conversation`); // "quit", ou recv() a rendu 0 octet
  return true;
}
