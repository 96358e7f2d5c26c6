# hallo_welt.py: the course's starting point, written again for this book.
# It keeps the two mistakes that lesson 01 fixes, so do not copy it.
import socket

ADDRESS = ("0.0.0.0", 8000)  # every network interface (lesson 01: 127.0.0.1)
ANSWER = b"HTTP/1.0 200 OK\n\nHallo Welt\n\n"  # mistake 1: bare LF, no CR

with socket.create_server(ADDRESS) as listener:
    print("Waiting for clients on port", ADDRESS[1])
    while True:
        client, peer = listener.accept()
        with client:  # leaving the block closes the connection
            request = client.recv(1024)  # mistake 2: one read is "the request"
            print(peer, request.decode("latin-1"))
            client.sendall(ANSWER)
