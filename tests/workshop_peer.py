#!/usr/bin/env python3
"""workshop_peer.py -- a peer that behaves like the workshop's own Python programs.

The workshop's programs send each message in one send() with no newline, reply
in one send() with no newline, and take each recv(1024) as one message after
strip(). Our programs must get along with them; the tests use this script to
check that they do.

    workshop_peer.py tcp-client HOST PORT [--replies] MSG...
        one send() per MSG, no newline; with --replies, one recv(1024) after
        each but "quit", printed as "Serveur: <reply>". Prints "envoyé: MSG" after each
        send, then waits for its stdin to close before closing the socket.
    workshop_peer.py tcp-server PORT [--replies]
        serves one client: each recv(1024) is printed as "Reçu : <msg>"; with
        --replies, answered in one send() with no newline; "quit" ends it. Prints "port N"
        once listening (PORT 0 picks a free port).
    workshop_peer.py udp-client HOST PORT MSG...
        one sendto() per MSG, no newline, then one recvfrom(1024) printed as
        "Serveur: <reply>". The workshop's client waits forever; this one gives
        up after 10 s, a guard so that a lost reply fails the test instead of hanging it.
    workshop_peer.py udp-server PORT
        each recvfrom(1024) is printed as "Reçu : <msg>" and answered with
        one sendto(), no newline. Prints "port N" once bound.
"""
import socket
import sys

REPLY = "Bonjour client, j'ai bien reçu ton message : "


def say(*parts):
    print(*parts, flush=True)


def tcp_client(host, port, replies, messages):
    sock = socket.create_connection((host, port))
    for msg in messages:
        sock.send(msg.encode())
        say("envoyé:", msg)
        if replies and msg != "quit":
            say("Serveur:", sock.recv(1024).decode(errors="replace"))
    sys.stdin.read()  # the test closes our stdin once it has seen what it waits for
    sock.close()


def tcp_server(port, replies):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    say("port", srv.getsockname()[1])
    conn, addr = srv.accept()
    say("Client connecté :", addr)
    while True:
        data = conn.recv(1024)
        if not data:
            break
        msg = data.decode(errors="replace").strip()
        if msg == "quit":
            break
        say("Reçu :", msg)
        if replies:
            conn.send((REPLY + msg).encode())
    say("Déconnecté")
    conn.close()
    srv.close()


def udp_client(host, port, messages):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(10)
    for msg in messages:
        sock.sendto(msg.encode(), (host, port))
        data, _ = sock.recvfrom(1024)
        say("Serveur:", data.decode(errors="replace"))
    sock.close()


def udp_server(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    say("port", sock.getsockname()[1])
    while True:
        data, addr = sock.recvfrom(1024)
        msg = data.decode(errors="replace").strip()
        say("Reçu :", msg)
        sock.sendto((REPLY + msg).encode(), addr)


def main(args):
    mode = args[0]
    replies = "--replies" in args
    args = [a for a in args[1:] if a != "--replies"]
    if mode == "tcp-client":
        tcp_client(args[0], int(args[1]), replies, args[2:])
    elif mode == "tcp-server":
        tcp_server(int(args[0]), replies)
    elif mode == "udp-client":
        udp_client(args[0], int(args[1]), args[2:])
    elif mode == "udp-server":
        udp_server(int(args[0]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
