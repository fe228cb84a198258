# Runs a command inside the sandbox. When the node may use the network, the sandbox's only way out
# is the worker's egress proxy on a unix socket (TRIBUTARY_PROXY_SOCKET); this bridges a loopback
# port to it and points the usual proxy variables at that port, so ordinary HTTP clients
# (requests, httpx, urllib) use it. Anything that ignores them finds no route: the sandbox's
# network namespace has loopback and nothing else.
import os
import signal
import socket
import subprocess
import sys
import threading


def pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def bridge(listener, path):
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def main():
    path = os.environ.pop('TRIBUTARY_PROXY_SOCKET', '')
    env = dict(os.environ)
    if path:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(('127.0.0.1', 0))
        listener.listen(64)
        proxy = 'http://127.0.0.1:%d' % listener.getsockname()[1]
        for name in ('HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy'):
            env[name] = proxy
        env['NO_PROXY'] = env['no_proxy'] = ''
        threading.Thread(target=bridge, args=(listener, path), daemon=True).start()
    child = subprocess.Popen(sys.argv[1:], env=env)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: child.send_signal(s))
    code = child.wait()
    # A child killed by a signal (SIGXCPU, SIGKILL) is reported as the shell does: 128 + signal.
    sys.exit(128 - code if code < 0 else code)


if __name__ == '__main__':
    main()
