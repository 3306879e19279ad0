"""RpcClient and connected() keep few keep-alive connections, share them, and close them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplace.chain.connection import connected
from marketplace.chain.rpc import RpcClient


class Node:
    """A keep-alive JSON-RPC server answering eth_chainId; counts connections opened and ended."""

    def __init__(self) -> None:
        self.opened = 0
        self.ended = 0
        self.changed = threading.Condition()
        self.arrived = threading.Event()  # a request is being answered
        self.release = threading.Event()  # answer it (set from the start unless a test holds)
        self.release.set()
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep the connection open between requests

            def setup(self) -> None:
                super().setup()
                with node.changed:
                    node.opened += 1
                    node.changed.notify_all()

            def finish(self) -> None:
                super().finish()
                with node.changed:
                    node.ended += 1
                    node.changed.notify_all()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                node.arrived.set()
                node.release.wait()
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_ended(self, count: int) -> bool:
        """Whether `count` connections have ended (waits for the server's threads to see it)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.ended >= count, timeout=30)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node() -> Iterator[Node]:
    running = Node()
    yield running
    running.stop()


def test_short_lived_threads_reuse_one_kept_alive_connection(node: Node) -> None:
    with RpcClient(node.url) as rpc:
        for _ in range(5):  # one after another, like the indexer's fetch threads
            thread = threading.Thread(target=rpc.chain_id)
            thread.start()
            thread.join()

        assert node.opened == 1


def test_close_ends_the_kept_alive_connections_and_the_client_can_call_again(
    node: Node,
) -> None:
    rpc = RpcClient(node.url)
    assert rpc.chain_id() == 31337

    rpc.close()
    assert node.wait_ended(1)

    assert rpc.chain_id() == 31337  # a new connection
    rpc.close()
    assert node.opened == 2 and node.wait_ended(2)


def test_leaving_the_with_block_closes_the_client(node: Node) -> None:
    with RpcClient(node.url) as rpc:
        rpc.chain_id()

    assert node.wait_ended(1)


def test_a_connection_in_use_while_the_client_closes_is_closed_when_its_call_ends(
    node: Node,
) -> None:
    rpc = RpcClient(node.url)
    node.release.clear()
    call = threading.Thread(target=rpc.chain_id)
    call.start()
    assert node.arrived.wait(timeout=30)

    rpc.close()  # nothing idle yet: the connection is busy with the call
    node.release.set()
    call.join()

    assert node.wait_ended(1)


def test_a_web3_from_connected_closes_its_connections_after_the_with_block(node: Node) -> None:
    with connected(node.url) as w3:
        assert w3.eth.chain_id == 31337

    assert node.opened == 1 and node.wait_ended(1)
