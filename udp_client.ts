#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * udp_client.ts -- le client UDP de l'atelier : envoie un datagramme et s'arrête.
 *
 * Lancer :   deno run --allow-net udp_client.ts      (le deno.json du dossier active --unstable-net)
 * Essayer :  nc -u -l 8888                           (dans un second terminal, lancé avant)
 */
import { readFlags } from "./lib/flags.ts";
import { formatAddr } from "./lib/ip.ts";
import { print } from "./lib/terminal.ts";

// 1. Les options : "Salut !\n" vers 127.0.0.1:8888, comme dans l'atelier.
const flags = readFlags({
  transport: "udp",
  purpose: "client UDP de l'atelier : envoie un datagramme et s'arrête.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 8888, message: "Salut !\n" },
  example: "nc -u -l 8888   (à lancer avant ce client)",
});

// 2. La socket UDP. Le port 0 demande au système un port libre quelconque : un
// client se moque du port d'où il envoie. Un serveur IPv6 demande une socket IPv6.
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: flags.host.includes(":") ? "::" : "0.0.0.0",
  port: 0,
});

// 3. Un send() = un datagramme, livré entier ou pas du tout. Pas de connexion :
// rien ne nous dit si quelqu'un écoute. Si personne n'écoute, le datagramme
// est perdu, et l'envoi « réussit » quand même.
const data = new TextEncoder().encode(flags.message);
const server: Deno.NetAddr = { transport: "udp", hostname: flags.host, port: flags.port };
await socket.send(data, server);
print(`Message envoyé à ${formatAddr(server)} (${data.length} octets)`);

// 4. Fermer la socket.
socket.close();
