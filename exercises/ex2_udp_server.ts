#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex2_udp_server.ts -- exercice 2, serveur : répond à chaque datagramme UDP.
 *
 * Lancer :   deno run --allow-net exercises/ex2_udp_server.ts   (deno.json active --unstable-net)
 * Essayer :  nc -u 127.0.0.1 5000                               (depuis un second terminal)
 */
import { readFlags } from "../lib/flags.ts";
import { notSent } from "../lib/errors.ts";
import { formatAddr } from "../lib/ip.ts";
import { answer, worthAnswering } from "../lib/net.ts";
import { textOf } from "../lib/text.ts";
import { onStop, print } from "../lib/terminal.ts";

/** La réponse de l'atelier, suivie du message. */
const REPONSE = "Bonjour client, j'ai bien reçu ton message : ";

// 1. Les options : toutes les interfaces, port 5000, un tampon de 1024 octets comme dans l'atelier.
const flags = readFlags({
  transport: "udp",
  purpose: "exercice 2, serveur UDP : répond à chaque datagramme reçu.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 5000, bufferSize: 1024 },
  example: "nc -u 127.0.0.1 5000",
});

// 2. La socket, liée au port : pas de connexion, pas d'accept().
const socket = Deno.listenDatagram({ transport: "udp", hostname: flags.host, port: flags.port });
onStop("Fin du serveur UDP", socket); // Ctrl+C
print(`Serveur UDP en écoute de messages sur le port ${(socket.addr as Deno.NetAddr).port}...`);

// Un octet de plus que --buffer-size, pour voir qu'un datagramme a été coupé.
const buffer = new Uint8Array(flags.bufferSize + 1);

// 3. Recevoir un datagramme et l'adresse de son expéditeur (recvfrom), puis
// répondre à cette adresse (sendto). Chaque datagramme est un message entier.
while (true) {
  const [data, from] = await socket.receive(buffer);
  const request = data.subarray(0, flags.bufferSize); // un datagramme trop long est coupé
  const text = textOf(request); // UTF-8, sans espaces autour (strip), contrôles visibles
  const cut = data.length > flags.bufferSize
    ? ` (coupé : datagramme de plus de ${flags.bufferSize} octets)`
    : "";
  print(`[${formatAddr(from)}] Reçu :`, text + cut);
  if (text === "quit") continue; // le client s'en va : il n'attend pas de réponse
  // N'importe qui peut écrire n'importe quelle adresse d'expéditeur : pas de
  // réponse à nous-mêmes, à une autre réponse, ni à qui nous inonde.
  if (!worthAnswering(socket, from, request, REPONSE)) continue;
  // La réponse reprend les octets reçus, et finit par "\n" seulement si la
  // demande aussi (comme à l'exercice 1). Un send() = un datagramme, entier.
  await socket.send(answer(REPONSE, request), from).catch((err) => notSent(err, from));
}
