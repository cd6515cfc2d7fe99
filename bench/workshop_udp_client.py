# The workshop's UDP client, for start-up times (bench.ts runs it with /usr/bin/python3).
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.sendto("Salut !\n".encode(), ("127.0.0.1", int(sys.argv[1])))
sock.close()
