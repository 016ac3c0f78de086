#!/usr/bin/env python3
"""Asks qmlls, over the Language Server Protocol on stdin/stdout, for the
completions inside an AttachmentQueue declaration, with only the install
tree's QML directory known to it (-b), as Qt Creator and editors start it.
Fails unless the queue's own properties are offered.

Usage: qmlls-completion.py <qmlls> <qml import dir> <work dir>
"""
import json
import os
import select
import subprocess
import sys
import time

EXPECTED = {'syncing', 'watchQuery', 'remoteStorage', 'databasePath', 'failing'}
DOCUMENT = """import QtQuick
import PowerSync.Attachments

Item {
    AttachmentQueue {
        id: attachmentQueue

    }
}
"""


def main(qmlls, import_dir, work_dir):
    os.makedirs(work_dir, exist_ok=True)
    path = os.path.join(work_dir, 'app.qml')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(DOCUMENT)
    env = dict(os.environ, QML_IMPORT_PATH='', QML2_IMPORT_PATH='')
    server = subprocess.Popen([qmlls, '--ignore-settings', '-b', import_dir], cwd=work_dir,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env)
    buffer = b''

    def send(message):
        body = json.dumps(message).encode()
        server.stdin.write(b'Content-Length: %d\r\n\r\n' % len(body) + body)
        server.stdin.flush()

    def wait_for(request_id, timeout):
        nonlocal buffer
        end = time.time() + timeout
        while time.time() < end:
            while b'\r\n\r\n' in buffer:
                head, rest = buffer.split(b'\r\n\r\n', 1)
                length = [line for line in head.split(b'\r\n')
                          if line.lower().startswith(b'content-length:')]
                size = int(length[0].split(b':')[1])
                if len(rest) < size:
                    break
                message = json.loads(rest[:size])
                buffer = rest[size:]
                if message.get('id') == request_id:
                    return message
            ready, _, _ = select.select([server.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(server.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
        return None

    try:
        uri = 'file://' + path
        send({'jsonrpc': '2.0', 'id': 1, 'method': 'initialize',
              'params': {'processId': None, 'rootUri': 'file://' + work_dir, 'capabilities': {}}})
        if not wait_for(1, 30):
            sys.exit('qmlls did not answer initialize')
        send({'jsonrpc': '2.0', 'method': 'initialized', 'params': {}})
        send({'jsonrpc': '2.0', 'method': 'textDocument/didOpen',
              'params': {'textDocument': {'uri': uri, 'languageId': 'qml', 'version': 1,
                                          'text': DOCUMENT}}})
        # The document is read in the background: ask until the types are there.
        labels = set()
        for attempt in range(20):
            request = 100 + attempt
            send({'jsonrpc': '2.0', 'id': request, 'method': 'textDocument/completion',
                  'params': {'textDocument': {'uri': uri}, 'position': {'line': 6, 'character': 8}}})
            answer = wait_for(request, 15)
            result = answer.get('result') if answer else None
            items = result if isinstance(result, list) else (result or {}).get('items', [])
            labels = {item.get('label') for item in items}
            if EXPECTED <= labels:
                print('qmlls offers', ', '.join(sorted(EXPECTED)))
                return
            time.sleep(0.5)
        sys.exit('qmlls did not offer %s (got %d items)'
                 % (', '.join(sorted(EXPECTED - labels)), len(labels)))
    finally:
        server.kill()
        server.wait()


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
