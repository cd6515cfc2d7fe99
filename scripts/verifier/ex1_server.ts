/**
 * ex1_server.ts -- the checks of exercise 1's server (TCP): the verifier is
 * its client, on 127.0.0.1, and starts the server afresh for each check (the
 * workshop's server serves one client, then ends).
 *
 * @module
 */
import { type Check, type Exercise, REPLY_MS, type Session, START_MS } from "./checks.ts";
import { boundAddresses } from "./procfs.ts";
import type { Student } from "./student.ts";
import { Link, SPLIT_TRIES } from "./tcp.ts";
import {
  crashText,
  isUtf8,
  matchReplies,
  quote,
  quoteAll,
  REPLY,
  type ReplyState,
  splitReplies,
} from "./text.ts";

/** The server, and our connection to it. */
interface Conversation {
  student: Student;
  link: Link;
}

/** What the server may have done wrong, and the idea to give in each case. */
interface Ideas {
  /** It said nothing. */
  silent: string;
  /** It said something else. */
  wrong: string;
  /** It ended on an error (default: `wrong`). */
  crash?: string;
}

const SECONDS = REPLY_MS / 1000;

/**
 * Starts the server and connects to it: a connection accepted proves that it
 * listens. A server that listens elsewhere (another port, another address)
 * is told at once rather than at the deadline.
 */
async function converse(session: Session): Promise<Conversation | string> {
  const student = session.start();
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline && student.status === null) {
    const link = await Link.connectUntil(
      session.port,
      Math.min(1000, deadline - Date.now()),
      student,
    );
    if (link) return { student, link: session.own(link) };
    const bound = await boundAddresses(student.pid, "tcp");
    if (bound && bound.length > 0) {
      // It listens; one more try, in case it just began to listen on our port.
      const late = await Link.connectUntil(session.port, 1, student);
      if (late) return { student, link: session.own(late) };
      break;
    }
  }
  return await whyNotListening(session.port, student);
}

/** Why nothing accepted our connection, with the fix. */
export async function whyNotListening(port: number, student: Student): Promise<string> {
  if (student.status !== null) {
    const ended = crashText(student.status, student.errorLine());
    if (/Address already in use|Errno 98|AddrInUse|déjà utilisé/i.test(student.stderr)) {
      return `votre serveur s'est arrêté ${ended}, car le port ${port} était encore pris : ` +
        `après une conversation, le port reste réservé une minute (TIME_WAIT) ; ajoutez ` +
        `s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) avant bind()`;
    }
    return `votre programme s'est arrêté avant d'écouter sur le port ${port} ${ended} : ` +
      `un serveur doit rester ouvert, en attente dans accept(), jusqu'à l'arrivée d'un client`;
  }
  const bound = await boundAddresses(student.pid, "tcp") ?? [];
  const onPort = bound.filter((b) => b.port === port);
  if (bound.length > 0 && onPort.length === 0) {
    const ports = [...new Set(bound.map((b) => b.port))].join(", ");
    return `votre serveur écoute sur le port ${ports} et non sur le port ${port} : ` +
      `mettez PORT = ${port}`;
  }
  if (onPort.length > 0) {
    return `votre serveur écoute sur ${onPort[0].ip}:${port}, que 127.0.0.1 n'atteint pas : ` +
      `mettez IP = "127.0.0.1", ou IP = "0.0.0.0" pour toutes les interfaces`;
  }
  return `rien n'écoute sur 127.0.0.1:${port} après ${START_MS / 1000} s : mettez ` +
    `IP = "127.0.0.1" (ou "0.0.0.0") et PORT = ${port}, puis appelez bind() et listen()`;
}

/** Waits until the server has sent one reply per message, or cannot anymore. */
async function awaitReplies(
  session: Session,
  { link }: Conversation,
  messages: string[],
): Promise<ReplyState> {
  const state = () => matchReplies(link.text(), session.setup.prefix, messages);
  await link.waitUntil(() => state() !== "partial", REPLY_MS);
  return state();
}

/** The server ended on an error: the sentence that says so, or null if it did not. */
async function crashed(
  { student, link }: Conversation,
  when: string,
  idea: string,
): Promise<string | null> {
  if (link.ended === "no" && student.status === null) return null;
  const status = await student.exitedWithin(2000);
  if (status === null || status.success) return null;
  return `votre serveur s'est arrêté sur une erreur ${crashText(status, student.errorLine())} ` +
    `${when} : ${idea}`;
}

/**
 * Says what the server sent back for `sent` (a quoted text) and what was
 * expected: nothing, a crash, a closed connection, bytes that are not UTF-8,
 * or other replies.
 */
async function explain(
  session: Session,
  conversation: Conversation,
  sent: string,
  messages: string[],
  ideas: Ideas,
): Promise<string> {
  const { link } = conversation;
  const crash = await crashed(conversation, `en recevant ${sent}`, ideas.crash ?? ideas.wrong);
  if (crash) return crash;
  const prefix = session.setup.prefix;
  const replies = splitReplies(link.text(), prefix);
  const expected = quoteAll(messages.map((message) => prefix + message));
  if (replies.length === 0) {
    if (link.ended !== "no") {
      return `votre serveur a fermé la connexion sans répondre à ${sent}, au lieu de répondre ` +
        `${expected} : ${ideas.silent}`;
    }
    return `votre serveur n'a rien répondu en ${SECONDS} s à ${sent} : ${ideas.silent}`;
  }
  if (!isUtf8(link.bytes)) {
    return `votre serveur a répondu ${quoteAll(replies)}, qui n'est pas du texte UTF-8 : ` +
      `encodez la réponse avec .encode(), qui donne de l'UTF-8`;
  }
  return `votre serveur a répondu ${quoteAll(replies)} à ${sent}, au lieu de ${expected} : ` +
    ideas.wrong;
}

/** Sends `text`, then checks for one reply per message. */
async function exchange(
  session: Session,
  text: string,
  messages: string[],
  ideas: Ideas,
): Promise<string | null> {
  const conversation = await converse(session);
  if (typeof conversation === "string") return conversation;
  await conversation.link.send(text);
  if (await awaitReplies(session, conversation, messages) === "complete") return null;
  return await explain(session, conversation, quote(text), messages, ideas);
}

const ORDINALS = ["premier", "deuxième", "troisième"];

/** The checks of exercise 1's server. */
export function checks(port: number): Check[] {
  return [
    {
      id: "ecoute",
      level: "requis",
      title: `écoute sur le port ${port}`,
      run: async (session) => {
        const conversation = await converse(session);
        return typeof conversation === "string" ? conversation : null;
      },
    },
    {
      id: "phrase",
      level: "requis",
      title: `répond exactement « ${REPLY}bonjour »`,
      needs: "ecoute",
      run: async (session) => {
        const conversation = await converse(session);
        if (typeof conversation === "string") return conversation;
        await conversation.link.send("bonjour");
        if (await awaitReplies(session, conversation, ["bonjour"]) === "complete") return null;
        const why = await explain(
          session,
          conversation,
          "« bonjour », envoyé sans \\n comme le fait le client de l'atelier",
          ["bonjour"],
          {
            silent: "le client de l'atelier n'envoie pas de \\n ; un serveur qui attend la fin " +
              "de ligne ne lui répond jamais",
            wrong: "la phrase doit être exactement celle de l'énoncé, espaces, accents et " +
              "ponctuation compris",
          },
        );
        // Another sentence before the message: the later checks will expect it.
        const reply = conversation.link.text().replace(/\r?\n$/, "");
        if (reply.endsWith("bonjour") && reply.length > 7 && !reply.includes("\n")) {
          session.setup.prefix = reply.slice(0, -7);
        }
        return why;
      },
    },
    {
      id: "retour-ligne",
      level: "requis",
      title: "répond aussi à « bonjour\\n », terminé par un retour à la ligne (comme nc)",
      needs: "ecoute",
      run: (session) =>
        exchange(session, "bonjour\n", ["bonjour"], {
          silent: "nc et le client en Deno envoient chaque ligne avec son \\n ; le serveur " +
            "doit leur répondre aussi",
          wrong: "retirez le \\n de fin avec strip() avant de répondre",
        }),
    },
    {
      id: "plusieurs",
      level: "requis",
      title: "répond à plusieurs messages sur la même connexion",
      needs: "ecoute",
      run: async (session) => {
        const conversation = await converse(session);
        if (typeof conversation === "string") return conversation;
        const messages = ["bonjour", "comment vas-tu ?", "au revoir"];
        for (let k = 0; k < messages.length; k++) {
          const sent = quote(`${messages[k]}\n`);
          await conversation.link.send(`${messages[k]}\n`);
          const state = await awaitReplies(session, conversation, messages.slice(0, k + 1));
          if (state === "complete") continue;
          const idea = "recv() et send() doivent être dans une boucle, jusqu'à quit ou au " +
            "départ du client";
          const crash = await crashed(conversation, `en recevant ${sent}`, idea);
          if (crash) return crash;
          const before = matchReplies(
            conversation.link.text(),
            session.setup.prefix,
            messages.slice(0, k),
          );
          if (k > 0 && before === "complete") {
            const what = conversation.link.ended === "no"
              ? "n'a pas répondu au"
              : "a fermé la connexion avant le";
            return `votre serveur a répondu au premier message mais ${what} ` +
              `${ORDINALS[k]} (${sent}), sur la même connexion : ${idea}`;
          }
          return await explain(session, conversation, sent, messages.slice(0, k + 1), {
            silent: idea,
            wrong: idea,
          });
        }
        return null;
      },
    },
    {
      id: "accents",
      level: "requis",
      title: "garde les accents (UTF-8)",
      needs: "ecoute",
      run: (session) =>
        exchange(session, "où est le café ? à côté de l'hôtel\n", [
          "où est le café ? à côté de l'hôtel",
        ], {
          silent: "décodez les octets reçus avec .decode() et encodez la réponse avec .encode()",
          wrong: "un « é » fait 2 octets en UTF-8 ; décodez les octets reçus avec .decode() et " +
            "encodez la réponse avec .encode(), en UTF-8 des deux côtés",
        }),
    },
    {
      id: "quit",
      level: "requis",
      title: "« quit » termine la conversation : le serveur ferme la connexion",
      needs: "ecoute",
      run: async (session) => {
        const conversation = await converse(session);
        if (typeof conversation === "string") return conversation;
        const { link, student } = conversation;
        await link.send("quit\n");
        await link.waitUntil(() => link.ended !== "no", REPLY_MS);
        if (link.ended !== "no") {
          const status = await student.exitedWithin(1000);
          if (status && !status.success) {
            return `votre serveur a fermé la connexion après « quit », mais en s'arrêtant sur ` +
              `une erreur ${crashText(status, student.errorLine())} : quit doit faire sortir ` +
              `de la boucle, sans erreur`;
          }
          return null;
        }
        if (link.text().includes(`${session.setup.prefix}quit`)) {
          return `votre serveur a répondu à « quit » comme à un message ordinaire et a gardé la ` +
            `connexion ouverte : testez if message == "quit" avant de répondre, puis sortez de ` +
            `la boucle et fermez la connexion (conn.close())`;
        }
        return `votre serveur n'a pas fermé la connexion dans les ${SECONDS} s qui ont suivi ` +
          `« quit » (le client attend que recv() renvoie 0 octet) : après quit, sortez de la ` +
          `boucle et appelez conn.close()`;
      },
    },
    {
      id: "depart",
      level: "requis",
      title: "survit au départ d'un client qui n'a pas dit quit",
      needs: "ecoute",
      run: async (session) => {
        const conversation = await converse(session);
        if (typeof conversation === "string") return conversation;
        const { link, student } = conversation;
        await link.send("bonjour\n");
        await awaitReplies(session, conversation, ["bonjour"]);
        await link.close(); // the client leaves: the server's recv() returns 0 bytes
        const idea = `recv() qui renvoie 0 octet (b"") veut dire que le client est parti ; ` +
          `sortez alors de la boucle`;
        const ended = async () => {
          const status = await student.exitedWithin(2000);
          if (status === null || status.success) return status;
          return `votre serveur s'est arrêté sur une erreur ` +
            `${crashText(status, student.errorLine())} quand le client est parti sans dire ` +
            `quit : ${idea}`;
        };
        const first = await ended();
        if (typeof first === "string") return first;
        if (first) return null; // one client served, then the end, as in the workshop
        // Still running: it must serve the next client (or be on its way out).
        const next = await Link.connectUntil(session.port, REPLY_MS, student);
        if (next) {
          session.own(next);
          await next.send("bonjour\n");
          const answered = () =>
            matchReplies(next.text(), session.setup.prefix, ["bonjour"]) === "complete";
          if (await next.waitUntil(answered, REPLY_MS)) return null;
        }
        const last = await ended();
        if (typeof last === "string") return last;
        if (last) return null;
        return `votre serveur ne s'est pas arrêté, et ne répond plus au client suivant, après ` +
          `le départ d'un client qui n'a pas dit quit : ${idea}`;
      },
    },
    {
      id: "deux-en-un",
      level: "avancé",
      title: "deux messages arrivés dans un seul segment",
      needs: "ecoute",
      run: async (session) => {
        const conversation = await converse(session);
        if (typeof conversation === "string") return conversation;
        const text = "bonjour\nau revoir\n";
        await conversation.link.send(text); // one write, so one segment
        const messages = ["bonjour", "au revoir"];
        if (await awaitReplies(session, conversation, messages) === "complete") return null;
        const idea = "TCP est un flux d'octets, un recv() n'est pas un message ; découpez ce " +
          "que vous recevez sur les \\n";
        const replies = splitReplies(conversation.link.text(), session.setup.prefix);
        if (
          replies.length === 1 && replies[0].includes("bonjour") && replies[0].includes("au revoir")
        ) {
          return `votre serveur a répondu une seule fois (${quote(replies[0])}) à deux ` +
            `messages envoyés ensemble : ${idea}`;
        }
        return await explain(session, conversation, quote(text), messages, {
          silent: idea,
          wrong: idea,
        });
      },
    },
    {
      id: "coupe",
      level: "avancé",
      title: "un message arrivé en deux segments, coupé au milieu d'un « é »",
      needs: "ecoute",
      run: async (session) => {
        const message = "café crème";
        const bytes = new TextEncoder().encode(`${message}\n`);
        const cut = 4; // "caf" and the first of the two bytes of "é"
        let conversation: Conversation | string;
        for (let tries = 1;; tries++) {
          conversation = await converse(session);
          if (typeof conversation === "string") return conversation;
          const tight = await conversation.link.sendInTwo(
            bytes.subarray(0, cut),
            bytes.subarray(cut),
          );
          if (await awaitReplies(session, conversation, [message]) === "complete") return null;
          // The machine was too busy to send the rest at once: a server that took the pause
          // for the end of the message is not to blame. Start again.
          if (tight || tries === SPLIT_TRIES) break;
          await session.end();
        }
        const pieces = "en deux morceaux, coupé au milieu du « é » (2 octets en UTF-8)";
        const crash = await crashed(
          conversation,
          `quand ${quote(message)} est arrivé ${pieces}`,
          "TCP peut couper un message n'importe où, même dans un caractère ; accumulez les " +
            "octets jusqu'au \\n, puis décodez le tout",
        );
        if (crash) return crash;
        const replies = splitReplies(conversation.link.text(), session.setup.prefix);
        const sent = `${quote(message)}, arrivé ${pieces}`;
        if (replies.length > 0 && replies[0] !== session.setup.prefix + message) {
          return `votre serveur a répondu ${quoteAll(replies)} sans attendre la fin de ${sent} : ` +
            `un recv() n'est pas un message ; accumulez les octets jusqu'au \\n, puis décodez`;
        }
        return await explain(session, conversation, sent, [message], {
          silent: "accumulez les octets jusqu'au \\n, puis décodez le tout",
          wrong: "accumulez les octets jusqu'au \\n, puis décodez le tout",
        });
      },
    },
    {
      id: "long",
      level: "avancé",
      title: "une ligne de plus de 1024 octets",
      needs: "ecoute",
      run: async (session) => {
        const conversation = await converse(session);
        if (typeof conversation === "string") return conversation;
        const line = "0123456789".repeat(200);
        await conversation.link.send(`${line}\n`);
        if (await awaitReplies(session, conversation, [line]) === "complete") return null;
        const idea = "recv(1024) lit au plus 1024 octets ; accumulez ce que vous recevez " +
          "jusqu'au \\n";
        const replies = splitReplies(conversation.link.text(), session.setup.prefix);
        if (replies.length >= 2 && conversation.student.status === null) {
          return `votre serveur a répondu en ${replies.length} fois ` +
            `(${quoteAll(replies.slice(0, 2))}${replies.length > 2 ? "…" : ""}) à une seule ` +
            `ligne de ${line.length} octets : ${idea}`;
        }
        return await explain(
          session,
          conversation,
          `une ligne de ${line.length} octets`,
          [line],
          { silent: idea, wrong: idea },
        );
      },
    },
  ];
}

/** Exercise 1, server. */
export const EX1_SERVER: Exercise = {
  name: "ex1-serveur",
  label: "exercice 1, serveur TCP",
  side: "serveur",
  transport: "tcp",
  plays: "le vérificateur joue le client",
  checks,
};
