#!/usr/bin/env python3
"""End-to-end tests of `faaslet serve`: each test starts a server on free
loopback ports with a fresh function store and talks to it over real HTTP.

usage: http_test.py FAASLET GUEST_FUNCS_DIR HTTP_FUNCS_DIR TEST_NAME
"""
import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FAASLET, GUEST_FUNCS, HTTP_FUNCS = sys.argv[1], sys.argv[2], sys.argv[3]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wasm(name):
    for d in (HTTP_FUNCS, GUEST_FUNCS):
        path = os.path.join(d, name + ".wasm")
        if os.path.exists(path):
            with open(path, "rb") as f:
                return f.read()
    raise FileNotFoundError(name)


class Server:
    """A running `faaslet serve` with its own store, log and ports."""

    def __init__(self, *args, timeout_ms=3000):
        self.dir = tempfile.TemporaryDirectory(prefix="faaslet-http-")
        self.store = os.path.join(self.dir.name, "store")
        self.log_path = os.path.join(self.dir.name, "serve.log")
        for attempt in range(5):
            self.port, self.upload_port = free_port(), free_port()
            self.log = open(self.log_path, "w")
            self.proc = subprocess.Popen(
                [FAASLET, "serve", "--port", str(self.port), "--upload-port",
                 str(self.upload_port), "--store", self.store, "--workers", "2",
                 "--timeout-ms", str(timeout_ms), *args],
                stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return
            self.proc.kill()
            self.proc.wait()
        raise AssertionError("server did not start: " + self.log_text())

    def _wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False  # e.g. a port taken in between: retry
            try:
                if self.get("/ping")[0] == 200 and self.get("/ping", upload=True)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, upload=False, headers=None, timeout=30):
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.upload_port if upload else self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def get(self, path, upload=False):
        return self.request("GET", path, upload=upload)

    def upload(self, user, function, name=None, data=None):
        data = wasm(name or function) if data is None else data
        return self.request("PUT", "/f/%s/%s" % (user, function), data, upload=True)

    def call(self, msg):
        body = msg if isinstance(msg, (bytes, str)) else json.dumps(msg)
        return self.request("POST", "/", body)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("server ignored SIGTERM")
        self.log.close()
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        self.dir.cleanup()


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_status(got, status, body_re=None):
    code, body = got
    expect(code == status, "expected HTTP %d, got %d: %r" % (status, code, body[:300]))
    if body_re is not None:
        expect(re.search(body_re, body.decode(errors="replace")),
               "body %r does not match %r" % (body[:300], body_re))
    if status >= 400:
        text = body.decode(errors="replace")
        expect(text.count("\n") <= 1 and text.strip(), "reason is not one line: %r" % text)


def still_serves(s):
    expect_status(s.get("/ping"), 200, "^PONG")
    expect_status(s.call({"user": "demo", "function": "echo", "input_data": "alive"}), 200,
                  "^alive$")


def stop_cleanly(s):
    rc = s.stop()
    expect(rc == 0, "exit status %d after SIGTERM; log:\n%s" % (rc, s.log_text()))


# ---- endpoints ------------------------------------------------------------

def test_ping_healthz_on_both_listeners():
    with Server() as s:
        for upload in (False, True):
            expect_status(s.get("/ping", upload), 200, "^PONG")
            expect_status(s.get("/healthz", upload), 200, "^ok")
        stop_cleanly(s)


def test_upload_then_sync_call_returns_output():
    with Server() as s:
        expect_status(s.upload("demo", "echo"), 200, "uploaded demo/echo")
        expect_status(s.call({"user": "demo", "function": "echo", "input_data": "hello"}), 200,
                      "^hello$")
        expect_status(s.call({"user": "demo", "function": "echo"}), 200, "^$")
        # the stored module comes back byte for byte
        code, body = s.get("/f/demo/echo", upload=True)
        expect(code == 200 and body == wasm("echo"), "GET /f/demo/echo differs")
        stop_cleanly(s)


def test_sync_nonzero_return_is_500_with_output():
    with Server() as s:
        s.upload("demo", "status")
        expect_status(s.call({"user": "demo", "function": "status", "input_data": "0"}), 200,
                      "^rv=0$")
        expect_status(s.call({"user": "demo", "function": "status", "input_data": "3"}), 500,
                      "^rv=3$")
        stop_cleanly(s)


def test_cmdline_reaches_argv():
    with Server() as s:
        s.upload("demo", "argv")
        # argv returns argc - 1, so two arguments make a 500 with the output
        expect_status(s.call({"user": "demo", "function": "argv", "cmdline": "one two"}), 500,
                      "^one two$")
        expect_status(s.call({"user": "demo", "function": "argv"}), 200, "^$")
        stop_cleanly(s)


def test_async_returns_id_then_poll_gives_result():
    with Server() as s:
        s.upload("demo", "echo")
        code, body = s.call({"user": "demo", "function": "echo", "input_data": "later",
                             "async": True})
        expect(code == 200 and body.strip().isdigit(), "async answer %d %r" % (code, body))
        call_id = int(body)
        deadline = time.time() + 10
        while True:
            got = s.call({"user": "demo", "function": "echo", "status": True, "id": call_id})
            if got[1] != b"RUNNING\n" or time.time() > deadline:
                break
            time.sleep(0.02)
        expect_status(got, 200, "^SUCCESS: later$")
        # polls are repeatable; the id alone is enough
        expect_status(s.call({"status": True, "id": call_id}), 200, "^SUCCESS: later$")
        # another function's name does not reveal the call
        s.upload("demo", "counter")
        expect_status(s.call({"user": "demo", "function": "counter", "status": True,
                              "id": call_id}), 404, "no call")
        stop_cleanly(s)


def test_async_poll_shows_running_then_failed_timeout():
    with Server(timeout_ms=800) as s:
        s.upload("demo", "loop")
        code, body = s.call({"user": "demo", "function": "loop", "async": True})
        call_id = int(body)
        expect_status(s.call({"user": "demo", "function": "loop", "status": True,
                              "id": call_id}), 200, "^RUNNING")
        time.sleep(1.5)
        expect_status(s.call({"user": "demo", "function": "loop", "status": True,
                              "id": call_id}), 500, "^FAILED: .*timed out")
        stop_cleanly(s)


def test_status_of_unknown_id_is_404():
    with Server() as s:
        expect_status(s.call({"user": "demo", "function": "echo", "status": True,
                              "id": 987654}), 404, "no call 987654")
        expect_status(s.call({"status": True}), 400, "needs a non-zero 'id'")
        stop_cleanly(s)


def test_chaining_through_http():
    with Server() as s:
        s.upload("demo", "echo")
        s.upload("demo", "chain_named")
        expect_status(s.call({"user": "demo", "function": "chain_named", "input_data": "ping"}),
                      200, "^chained:ping$")
        # a chain to a function that is not there fails inside, not the server
        s.upload("other", "chain_named")
        code, body = s.call({"user": "other", "function": "chain_named", "input_data": "x"})
        expect(code == 500, "chain to a missing function: %d %r" % (code, body))
        still_serves(s)
        stop_cleanly(s)


def test_counter_is_reset_between_calls():
    with Server() as s:
        s.upload("demo", "counter")
        for _ in range(3):
            expect_status(s.call({"user": "demo", "function": "counter"}), 200, "^1$")
        stop_cleanly(s)


def test_trap_is_500_with_reason_and_server_keeps_serving():
    with Server() as s:
        s.upload("demo", "trap")
        s.upload("demo", "echo")
        expect_status(s.call({"user": "demo", "function": "trap"}), 500, "unreachable")
        still_serves(s)
        stop_cleanly(s)


def test_timeout_is_500_with_reason():
    with Server(timeout_ms=500) as s:
        s.upload("demo", "loop")
        s.upload("demo", "echo")
        t0 = time.time()
        expect_status(s.call({"user": "demo", "function": "loop"}), 500, "timed out after 500 ms")
        expect(time.time() - t0 < 10, "timeout took too long")
        still_serves(s)
        stop_cleanly(s)


def test_upload_replaces_function():
    with Server() as s:
        s.upload("demo", "f", "echo")
        expect_status(s.call({"user": "demo", "function": "f", "input_data": "x"}), 200, "^x$")
        s.upload("demo", "f", "counter")
        expect_status(s.call({"user": "demo", "function": "f", "input_data": "x"}), 200, "^1$")
        stop_cleanly(s)


# ---- state ----------------------------------------------------------------

def test_state_put_get_and_functions_share_it():
    with Server() as s:
        expect_status(s.request("PUT", "/s/demo/greeting", b"hi there", upload=True), 200,
                      "stored demo/greeting")
        code, body = s.get("/s/demo/greeting", upload=True)
        expect(code == 200 and body == b"hi there", "GET state: %d %r" % (code, body))
        # a function reads what was PUT over HTTP
        s.upload("demo", "state_read")
        expect_status(s.call({"user": "demo", "function": "state_read",
                              "input_data": "greeting"}), 200, "^hi there$")
        # ... and what a function pushes is visible over HTTP
        s.upload("demo", "state_basic")
        expect_status(s.call({"user": "demo", "function": "state_basic"}), 200, "state ok")
        code, body = s.get("/s/demo/sb_value", upload=True)
        expect(code == 200 and body == b"HELLO world", "pushed state: %d %r" % (code, body))
        # a new PUT of a value the host has open replaces it for the next call
        s.request("PUT", "/s/demo/greeting", b"second", upload=True)
        expect_status(s.call({"user": "demo", "function": "state_read",
                              "input_data": "greeting"}), 200, "^second$")
        # binary values round-trip
        blob = bytes(range(256)) * 10
        s.request("PUT", "/s/demo/blob", blob, upload=True)
        expect(s.get("/s/demo/blob", upload=True) == (200, blob), "binary state differs")
        expect_status(s.get("/s/demo/missing", upload=True), 404, "no state value demo/missing")
        expect_status(s.get("/s/other/greeting", upload=True), 404, "no state value")
        stop_cleanly(s)


def test_state_bad_names_are_400():
    with Server() as s:
        for path in ("/s/demo/", "/s/demo", "/s/demo/a/b", "/s/demo/..", "/s/demo/%2E%2E",
                     "/s/demo/a%0Ab", "/s/demo/a%00b", "/s/..%2Fx/k", "/s/us%01er/k"):
            expect_status(s.request("PUT", path, b"v", upload=True), 400)
            expect_status(s.get(path, upload=True), 400)
        stop_cleanly(s)


# ---- planner-style batches ------------------------------------------------

def planner(http_type, payload):
    return {"http_type": http_type, "payloadJson": json.dumps(payload)}


def test_execute_batch_and_status():
    with Server() as s:
        s.upload("demo", "echo")
        inputs = [b"one", b"\x00\x01binary\xff", b""]
        msgs = [{"user": "demo", "function": "echo",
                 "input_data": base64.b64encode(i).decode()} for i in inputs]
        code, body = s.call(planner(10, {"appId": 4242, "messages": msgs}))
        expect(code == 200, "EXECUTE_BATCH: %d %r" % (code, body))
        status = json.loads(body)
        expect(status["appId"] == 4242 and status["finished"] is False,
               "EXECUTE_BATCH answer %r" % status)
        deadline = time.time() + 10
        while True:
            code, body = s.call(planner(11, {"appId": 4242, "expectedNumMessages": 3}))
            expect(code == 200, "EXECUTE_BATCH_STATUS: %d %r" % (code, body))
            status = json.loads(body)
            if status["finished"] or time.time() > deadline:
                break
            time.sleep(0.02)
        expect(status["finished"], "batch never finished: %r" % status)
        outs = sorted(base64.b64decode(m["output_data"]) for m in status["messageResults"])
        expect(outs == sorted(inputs), "batch outputs %r" % outs)
        expect(all(m["returnValue"] == 0 and m["appId"] == 4242
                   for m in status["messageResults"]), "batch results %r" % status)
        # enum names (protobuf's JSON) work too, and the server picks an app id
        code, body = s.call({"http_type": "EXECUTE_BATCH",
                             "payloadJson": json.dumps({"messages": msgs[:1]})})
        expect(code == 200 and json.loads(body)["appId"] > 0, "named type: %r" % body)
        # the same app id twice, an unknown app, a bad type, bad payloads
        expect_status(s.call(planner(10, {"appId": 4242, "messages": msgs})), 400, "in use")
        expect_status(s.call(planner(11, {"appId": 777})), 404,
                      "^App not registered in results$")
        expect_status(s.call({"http_type": 3}), 400, "unsupported http_type")
        expect_status(s.call({"http_type": 10}), 400, "payloadJson")
        expect_status(s.call({"http_type": 10, "payloadJson": "{"}), 400, "malformed JSON")
        expect_status(s.call(planner(10, {"messages": []})), 400, "non-empty 'messages'")
        expect_status(s.call(planner(10, {"messages": [{"user": "demo", "function": "echo",
                                                        "input_data": "!!"}]})), 400, "base64")
        expect_status(s.call(planner(10, {"messages": [{"user": "demo",
                                                        "function": "nope"}]})), 404,
                      "no function demo/nope")
        stop_cleanly(s)


# ---- bad input --------------------------------------------------------------

def test_bad_invoke_bodies_are_400():
    with Server() as s:
        s.upload("demo", "echo")
        cases = [
            (b"", "empty request body"),
            (b"{", "malformed JSON"),
            (b"{\"user\": \"demo\"} trailing", "trailing data"),
            (b"[1, 2]", "JSON object"),
            (b"\"just a string\"", "JSON object"),
            ({"function": "echo"}, "missing field 'user'"),
            ({"user": "demo"}, "missing field 'function'"),
            ({"user": 5, "function": "echo"}, "'user' must be a string"),
            ({"user": "demo", "function": "echo", "input_data": 7}, "'input_data' must be"),
            ({"user": "demo", "function": "echo", "async": "yes"}, "'async' must be"),
            ({"user": "demo", "function": "echo", "cmdline": []}, "'cmdline' must be"),
            ({"user": "demo", "function": "echo", "status": True, "id": -1}, "'id' must be"),
            ({"user": "de/mo", "function": "echo"}, "bad user name"),
            ({"user": "demo", "function": "../echo"}, "bad function name"),
            ({"user": "..", "function": "echo"}, "bad user name"),
            ({"user": "demo", "function": "ec\nho"}, "bad function name"),
            ({"user": "demo", "function": "ec\u0000ho"}, "NUL characters are not allowed"),
            ({"user": "demo", "function": "echo", "input_data": "a\u0000b"}, "NUL characters"),
            ({"user": "x" * 65, "function": "echo"}, "bad user name"),
            ({"user": "demo", "function": ""}, "bad function name"),
        ]
        for body, reason in cases:
            expect_status(s.call(body), 400, re.escape(reason))
        still_serves(s)
        stop_cleanly(s)


def test_unknown_user_or_function_is_404():
    with Server() as s:
        s.upload("demo", "echo")
        expect_status(s.call({"user": "demo", "function": "nope"}), 404,
                      "no function demo/nope")
        expect_status(s.call({"user": "nobody", "function": "echo"}), 404,
                      "no function nobody/echo")
        expect_status(s.call({"user": "nobody", "function": "echo", "async": True}), 404)
        still_serves(s)
        stop_cleanly(s)


def test_invalid_and_truncated_uploads_store_nothing():
    with Server() as s:
        good = wasm("echo")
        for data, reason in ((b"", "empty body"), (b"not wasm at all", "magic"),
                             (good[:len(good) // 2], "invalid module"),
                             (good[:9], "invalid module"),
                             (b"\x00asm\x02\x00\x00\x00", "invalid module")):
            expect_status(s.upload("demo", "bad", data=data), 400, reason)
            expect_status(s.get("/f/demo/bad", upload=True), 404)
            expect_status(s.call({"user": "demo", "function": "bad"}), 404)
        expect(not os.path.exists(os.path.join(s.store, "demo", "bad", "function.wasm")),
               "a bad upload left a file")
        # a bad upload over a good function keeps the good one
        s.upload("demo", "echo")
        expect_status(s.upload("demo", "echo", data=good[:100]), 400)
        still_serves(s)
        stop_cleanly(s)


def test_bad_names_in_upload_paths_are_400():
    with Server() as s:
        for path in ("/f/demo/a%2Fb", "/f/demo/a/b", "/f/%2E%2E/echo", "/f/demo/..",
                     "/f/demo/.hidden", "/f/demo/a%0Ab", "/f/demo/a%00b", "/f/demo/",
                     "/f/demo", "/f//echo", "/f/" + "u" * 65 + "/echo"):
            expect_status(s.request("PUT", path, wasm("echo"), upload=True), 400)
        left = sorted(os.listdir(s.store)) if os.path.exists(s.store) else []
        expect(left in ([], [".files"]), "bad names stored something: %r" % left)
        stop_cleanly(s)


def test_body_over_limit_is_413_and_server_keeps_serving():
    limit = 100000
    with Server("--max-body", str(limit)) as s:
        expect(len(wasm("echo")) < limit < 2 * len(wasm("echo")), "echo.wasm size changed")
        s.upload("demo", "echo")
        expect_status(s.call({"user": "demo", "function": "echo", "input_data": "x" * 90000}),
                      200, "^x{90000}$")
        big = json.dumps({"user": "demo", "function": "echo", "input_data": "x" * limit})
        expect_status(s.call(big), 413, "over the limit of %d bytes" % limit)
        expect_status(s.upload("demo", "echo2", data=wasm("echo") * 2), 413, "over the limit")
        expect_status(s.get("/f/demo/echo2", upload=True), 404)
        # chunked: no Content-Length, so the server counts as it reads
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        conn.putrequest("POST", "/")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for _ in range(110):
            chunk = b"y" * 1000
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        expect(resp.status == 413, "chunked over the limit: %d" % resp.status)
        conn.close()
        still_serves(s)
        stop_cleanly(s)


def test_wrong_method_is_405_and_unknown_path_404():
    with Server() as s:
        expect_status(s.get("/"), 405, "use POST")
        expect_status(s.request("PUT", "/", b"{}"), 405)
        expect_status(s.request("POST", "/ping", b""), 405)
        expect_status(s.request("DELETE", "/metrics"), 405)
        expect_status(s.request("POST", "/f/demo/echo", b"x", upload=True), 405)
        expect_status(s.request("DELETE", "/s/demo/k", upload=True), 405)
        expect_status(s.get("/nowhere"), 404, "no such endpoint")
        expect_status(s.get("/nowhere", upload=True), 404, "no such endpoint")
        code, _ = s.request("HEAD", "/ping")
        expect(code == 200, "HEAD /ping: %d" % code)
        stop_cleanly(s)


def test_client_disconnect_mid_call_keeps_server_serving():
    with Server(timeout_ms=1000) as s:
        s.upload("demo", "loop")
        s.upload("demo", "echo")
        body = json.dumps({"user": "demo", "function": "loop"}).encode()
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", s.port))
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))
            time.sleep(0.1)
            sock.close()
        still_serves(s)
        # the abandoned calls time out (two workers: the third starts after
        # one of the others ends); their results go nowhere
        want = rb'faaslet_calls_total\{user="demo",function="loop",outcome="failed"\} 3'
        deadline = time.time() + 20
        while True:
            code, text = s.get("/metrics")
            if re.search(want, text) or time.time() > deadline:
                break
            time.sleep(0.1)
        expect(re.search(want, text), "abandoned calls not counted:\n" + text.decode())
        still_serves(s)
        stop_cleanly(s)


# ---- load, metrics, logs, shutdown ------------------------------------------

def test_concurrent_clients():
    with Server() as s:
        s.upload("demo", "echo")
        s.upload("demo", "counter")
        errors = []

        def client(n):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
                for i in range(25):
                    text = "client %d call %d" % (n, i)
                    fn = "echo" if i % 5 else "counter"
                    conn.request("POST", "/", json.dumps(
                        {"user": "demo", "function": fn, "input_data": text}))
                    resp = conn.getresponse()
                    body = resp.read().decode()
                    want = text if fn == "echo" else "1"
                    if resp.status != 200 or body != want:
                        errors.append((n, i, resp.status, body))
                conn.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((n, repr(e)))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expect(not errors, "concurrent errors: %r" % errors[:5])
        code, text = s.get("/metrics")
        expect(b'faaslet_calls_total{user="demo",function="echo",outcome="success"} 480' in text,
               "metrics after load:\n" + text.decode())
        stop_cleanly(s)


def test_metrics_in_prometheus_format():
    with Server() as s:
        s.upload("demo", "echo")
        s.upload("demo", "trap")
        s.upload("demo", "status")
        for _ in range(3):
            s.call({"user": "demo", "function": "echo", "input_data": "m"})
        s.call({"user": "demo", "function": "trap"})
        s.call({"user": "demo", "function": "status", "input_data": "2"})
        s.call({"user": "demo", "function": "nope"})
        code, body = s.get("/metrics")
        text = body.decode()
        expect(code == 200, "metrics: %d" % code)
        for want in ('faaslet_calls_total{user="demo",function="echo",outcome="success"} 3',
                     'faaslet_calls_total{user="demo",function="trap",outcome="failed"} 1',
                     'faaslet_calls_total{user="demo",function="status",outcome="error"} 1',
                     'faaslet_call_duration_seconds_count 5',
                     'faaslet_call_duration_seconds_bucket{le="+Inf"} 5',
                     'faaslet_http_requests_total{listener="invoke",code="404"} 1',
                     '# TYPE faaslet_call_duration_seconds histogram',
                     '# TYPE faaslet_warm_faaslets gauge'):
            expect(want in text, "missing %r in:\n%s" % (want, text))
        expect(re.search(r"^faaslet_warm_faaslets [1-9]", text, re.M), "no warm Faaslets")
        expect(re.search(r"^process_resident_memory_bytes [1-9]\d+$", text, re.M), "no memory")
        # every sample line is "name{labels} value" or "name value"
        for line in text.splitlines():
            if line and not line.startswith("#"):
                expect(re.match(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$',
                                line), "bad sample line %r" % line)
        stop_cleanly(s)


def inline_calls(s):
    code, body = s.get("/metrics")
    m = re.search(r"^faaslet_http_inline_calls_total (\d+)$", body.decode(), re.M)
    expect(code == 200 and m, "no inline call counter in /metrics")
    return int(m.group(1))


def test_short_calls_run_inline_slow_ones_on_workers():
    with Server() as s:
        s.upload("demo", "echo")
        s.upload("demo", "spin")
        expect_status(s.call({"user": "demo", "function": "echo", "input_data": "a"}), 200)
        # the first call's run time was unknown: it went to a worker
        expect(inline_calls(s) == 0, "a first call ran inline")
        for i in range(8):
            expect_status(s.call({"user": "demo", "function": "echo", "input_data": str(i)}),
                          200, "^%d$" % i)
        # (the first, cold call may have been slow, and a busy machine can
        # preempt a call past the limit: most, not all, run inline)
        n = inline_calls(s)
        expect(n >= 4, "expected most of 8 short calls inline, got %d" % n)
        # a 30 ms function always runs on the workers
        for _ in range(3):
            expect_status(s.call({"user": "demo", "function": "spin", "input_data": "30"}),
                          200, "^spun 30$")
        expect(inline_calls(s) == n, "a slow function ran inline")
        # a re-upload forgets the run time: the new code's first call is not inline
        s.upload("demo", "echo")
        expect_status(s.call({"user": "demo", "function": "echo", "input_data": "x"}), 200)
        expect(inline_calls(s) == n, "a re-uploaded function's first call ran inline")
        for _ in range(8):
            expect_status(s.call({"user": "demo", "function": "echo", "input_data": "y"}), 200,
                          "^y$")
        expect(inline_calls(s) > n, "the re-uploaded function never ran inline")
        # a chain started inline parks awaiting its callee and a worker
        # finishes it: concurrent chains all come back right
        s.upload("demo", "chain_named")
        before = inline_calls(s)
        for i in range(12):
            expect_status(s.call({"user": "demo", "function": "chain_named",
                                  "input_data": "c%d" % i}), 200, "^chained:c%d$" % i)
        results = {}

        def chain(i):
            results[i] = s.call({"user": "demo", "function": "chain_named",
                                 "input_data": "t%d" % i})

        threads = [threading.Thread(target=chain, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(16):
            expect_status(results[i], 200, "^chained:t%d$" % i)
        print("inline chains: %d of 28" % (inline_calls(s) - before))
        # traps on the event thread are contained like on a worker
        s.upload("demo", "trap")
        for _ in range(3):
            expect_status(s.call({"user": "demo", "function": "trap"}), 500)
        still_serves(s)
        stop_cleanly(s)
    with Server("--inline-us", "0") as s:
        s.upload("demo", "echo")
        for _ in range(3):
            expect_status(s.call({"user": "demo", "function": "echo", "input_data": "x"}), 200)
        expect(inline_calls(s) == 0, "--inline-us 0 still ran calls inline")
        stop_cleanly(s)


def test_one_log_line_per_call():
    with Server() as s:
        s.upload("demo", "echo")
        s.upload("demo", "trap")
        for i in range(4):
            s.call({"user": "demo", "function": "echo", "input_data": str(i)})
        s.call({"user": "demo", "function": "trap"})
        s.call({"user": "demo", "function": "echo", "async": True})
        time.sleep(0.3)
        stop_cleanly(s)
        calls = [l for l in s.log_text().splitlines() if re.search(r" info call \d+ ", l)]
        expect(len(calls) == 6, "expected 6 call lines, got:\n" + "\n".join(calls))
        expect(sum(" failed " in l for l in calls) == 1, "trap not logged as failed")
        expect(sum(" async " in l for l in calls) == 1, "async not logged")


def test_sigterm_drains_in_flight_calls_and_exits_0():
    with Server() as s:
        s.upload("demo", "spin")
        results = {}

        def slow_call(key, is_async):
            results[key] = s.call({"user": "demo", "function": "spin", "input_data": "700",
                                   "async": is_async})

        sync = threading.Thread(target=slow_call, args=("sync", False))
        sync.start()
        slow_call("async", True)
        time.sleep(0.2)
        t0 = time.time()
        s.proc.send_signal(signal.SIGTERM)
        # no new connections once draining (give a loaded machine a moment)
        refused = False
        deadline = time.time() + 5
        while not refused and time.time() < deadline:
            try:
                refused = s.get("/ping")[0] != 200
            except OSError:
                refused = True
            time.sleep(0.02)
        expect(refused, "server still accepts connections while draining")
        rc = s.proc.wait(timeout=30)
        sync.join()
        expect(rc == 0, "exit status %d" % rc)
        expect(results["sync"] == (200, b"spun 700"), "in-flight sync call: %r" % (results["sync"],))
        expect(time.time() - t0 >= 0.3, "exited before the calls finished")
        log = s.log_text()
        expect(log.count("spin async ok") == 1 and log.count("spin sync ok") == 1,
               "drained calls not both finished:\n" + log)


# ---- the state tier on Redis (registered only where redis-server exists) ----

class Redis:
    """A redis-server on a free loopback port, in its own directory."""

    def __init__(self, path, port=None):
        self.path, self.dir = path, tempfile.TemporaryDirectory(prefix="faaslet-redis-")
        self.port = port or free_port()
        self.proc = subprocess.Popen(
            [path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir.name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.dir.cleanup()


def redis_test_two_servers_share_state():
    redis_server = os.environ["FL_REDIS_SERVER"]
    with Redis(redis_server) as redis:
        addr = "127.0.0.1:%d" % redis.port
        with Server("--redis", addr) as a, Server("--redis", addr) as b:
            expect(a.store != b.store, "the servers share a store")
            # the upload server's state endpoints write and read the global tier
            expect_status(a.request("PUT", "/s/demo/greeting", b"from A", upload=True), 200)
            code, body = b.get("/s/demo/greeting", upload=True)
            expect((code, body) == (200, b"from A"), "B read %d %r" % (code, body))
            # a function on B reads what was PUT on A
            b.upload("demo", "state_read")
            expect_status(b.call({"user": "demo", "function": "state_read",
                                  "input_data": "greeting"}), 200, "^from A$")
            # a PUT on B of a value B has open replaces it there and in Redis
            expect_status(b.request("PUT", "/s/demo/greeting", b"from B", upload=True), 200)
            expect(a.get("/s/demo/greeting", upload=True) == (200, b"from B"),
                   "A does not see B's PUT")
            expect_status(b.call({"user": "demo", "function": "state_read",
                                  "input_data": "greeting"}), 200, "^from B$")
            # what a function on A pushes, B serves
            a.upload("demo", "state_basic")
            expect_status(a.call({"user": "demo", "function": "state_basic"}), 200, "state ok")
            expect(b.get("/s/demo/sb_value", upload=True) == (200, b"HELLO world"),
                   "B does not see A's pushed value")
            expect_status(b.get("/s/demo/missing", upload=True), 404, "no state value")
            # Redis down: state requests fail with a one-line 503; uploads, calls
            # and the other endpoints keep working
            redis.stop()
            expect_status(a.get("/s/demo/greeting", upload=True), 503,
                          r"^state demo/greeting: .*redis")
            expect_status(b.request("PUT", "/s/demo/other", b"x", upload=True), 503,
                          r"^state demo/other: .*redis")
            a.upload("demo", "echo")
            b.upload("demo", "echo")
            for s in (a, b):
                still_serves(s)
                expect_status(s.get("/healthz"), 200)
            # ... and recovers once Redis is back on its port
            with Redis(redis_server, redis.port):
                deadline = time.time() + 10
                while a.request("PUT", "/s/demo/greeting", b"again", upload=True)[0] != 200:
                    expect(time.time() < deadline, "no recovery after Redis came back")
                    time.sleep(0.1)
                expect(b.get("/s/demo/greeting", upload=True) == (200, b"again"),
                       "B does not see A's PUT after the restart")
                stop_cleanly(a)
                stop_cleanly(b)
    # a Redis that is not there fails at start, with a clear line
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([FAASLET, "serve", "--port", "0", "--upload-port", "0", "--store", d,
                            "--redis", "127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode == 1 and re.search(r"--redis: .*refused", p.stderr),
               "unreachable Redis at start: rc %d %r" % (p.returncode, p.stderr))


def main():
    name = sys.argv[4]
    fn = globals().get(name)
    if not name.startswith(("test_", "redis_test_")) or fn is None:
        sys.exit("no test %s" % name)
    fn()
    print("PASS", name)


if __name__ == "__main__":
    main()
