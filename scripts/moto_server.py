"""The AWS emulator the tests run against: moto_server, with DynamoDB requests handled one at a
time. Same arguments as moto_server (scripts/test: `-H 127.0.0.1 -p PORT`).

DynamoDB runs each request in isolation (transactions are serializable). moto checks and applies
a transaction's actions one after the other, with no lock, and rolls a cancelled one back by
restoring whole tables from a copy: two requests handled at once on moto's threads can interleave
and undo each other (two racing claims could both succeed, or both fail). Serializing the
DynamoDB handler restores isolation; other services keep moto's threads (an SQS long poll must
not hold everyone up).
"""

import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _one_at_a_time(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _one_at_a_time

if __name__ == "__main__":
    main()
