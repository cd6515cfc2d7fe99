#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * tcp_server.ts -- le serveur TCP de l'atelier : affiche chaque ligne reçue d'un client.
 *
 * Lancer :   deno run --allow-net tcp_server.ts       (ajoutez -k pour servir plusieurs clients)
 * Essayer :  nc 127.0.0.1 8888                        (depuis un second terminal, puis tapez)
 */
import { readFlags } from "./lib/flags.ts";
import { clientLost } from "./lib/errors.ts";
import { formatAddr } from "./lib/ip.ts";
import { messages } from "./lib/lines.ts";
import { acceptOrWait } from "./lib/net.ts";
import { onStop, print } from "./lib/terminal.ts";

// 1. Les options : toutes les interfaces, port 8888, comme dans l'atelier.
const flags = readFlags({
  transport: "tcp",
  purpose: "serveur TCP de l'atelier : affiche chaque ligne reçue d'un client.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 8888, keepOpen: false },
  example: "nc 127.0.0.1 8888",
});

// 2. La socket d'écoute : socket() + bind() + listen() en un seul appel.
const listener = Deno.listen({ hostname: flags.host, port: flags.port });
onStop("Fin du programme", listener); // Ctrl+C : fermer la socket, dire au revoir
print(`Serveur TCP en attente de connexion sur le port ${listener.addr.port}...`);

// 3. accept() attend un client et renvoie une NOUVELLE socket, rien que pour
// lui ; la socket d'écoute, elle, ne transporte jamais de données.
while (true) {
  const conn = await acceptOrWait(listener); // listener.accept(), qui survit aux clients pressés
  if (!flags.keepOpen) {
    listener.close(); // un seul client, comme dans l'atelier : les suivants sont refusés
    Deno.exitCode = await serve(conn, "") ? 0 : 1; // 1 si la connexion a cassé
    break;
  }
  // Avec -k, tous les clients en même temps (pas d'await) ; le préfixe dit qui parle.
  serve(conn, `[${formatAddr(conn.remoteAddr)}] `);
}

/** Affiche ce qu'envoie un client jusqu'à ce qu'il raccroche ; false si la connexion a cassé. */
async function serve(conn: Deno.Conn, prefix: string): Promise<boolean> {
  using _ = conn; // fermée en sortant, comme `with conn:` en Python
  if (prefix) print(`${prefix}Client connecté`); // avec -k, le préfixe dit déjà qui est là
  else print("Client connecté :", formatAddr(conn.remoteAddr));
  try {
    // TCP transporte des octets, pas des messages : un recv() peut rendre une
    // demi-ligne ou trois lignes. messages() découpe le flux sur "\n".
    for await (const message of messages(conn)) {
      print(`${prefix}Reçu :`, message.text.trim());
    }
  } catch (err) {
    return clientLost(err, conn); // une ligne en français ; les autres clients continuent
  }
  print(`${prefix}Déconnecté`); // recv() a rendu 0 octet : le client a fermé sa connexion
  return true;
}
