#!/usr/bin/env python3
"""Keeps a local copy of Roster's answers for a few buckets, re-reading a bucket only when it changes.

Watches GET /v1/watch (Server-Sent Events), and on each change event for a bucket makes a conditional
GET /v1/schedulable (If-None-Match with the ETag it holds, when the server sends one). Reconnects with
Last-Event-ID after a dropped connection, so a change made while it was away is announced on
reconnect. Standard library only (Python 3.8+).

    python3 examples/watch_client.py --url http://127.0.0.1:8090 --bucket 0:anthropic:mixed \
        [--bucket 3:openai:single ...] [--token TOKEN] [--changes N]

Prints one JSON line per answer it loads: {"bucket", "status", "version", "accounts"}; with --changes N
it exits 0 after N loads caused by changes (not counting the first load of each bucket).
"""

import argparse
import http.client
import json
import sys
import time
import urllib.parse


class Cache:
    """The local copy: per bucket, the last answer, its version and its ETag."""

    def __init__(self):
        self.answers = {}

    def refresh(self, base, token, bucket):
        group, platform, mode = bucket.split(":")
        query = {"group": group, "platform": platform}
        if mode == "forced":
            query["force"] = "true"
        held = self.answers.get(bucket)
        headers = {"Accept-Encoding": "identity"}
        if token:
            headers["Authorization"] = "Bearer " + token
        if held and held.get("etag"):
            headers["If-None-Match"] = held["etag"]
        conn = connect(base, timeout=30)
        try:
            conn.request("GET", path(base, "/v1/schedulable?" + urllib.parse.urlencode(query)), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 304:
                status = 304
            elif resp.status == 200:
                answer = json.loads(body)
                self.answers[bucket] = {"etag": resp.getheader("ETag"), "answer": answer}
                status = 200
            else:
                raise RuntimeError("GET /v1/schedulable for %s answered %d: %s" % (bucket, resp.status, body[:200]))
        finally:
            conn.close()
        answer = self.answers[bucket]["answer"]
        print(json.dumps({"bucket": bucket, "status": status, "version": answer["version"],
                          "accounts": len(answer["accounts"])}), flush=True)


def connect(base, timeout):
    u = urllib.parse.urlsplit(base)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    return cls(u.hostname, u.port, timeout=timeout)


def path(base, p):
    return urllib.parse.urlsplit(base).path.rstrip("/") + p


def events(resp):
    """Yields (id, event, data) for each event of a text/event-stream response; comments are skipped."""
    ev_id, ev_type, data = None, "message", []
    while True:
        raw = resp.readline()
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield ev_id, ev_type, "\n".join(data)
            ev_id, ev_type, data = None, "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "id":
                ev_id = value
            elif field == "event":
                ev_type = value
            elif field == "data":
                data.append(value)


def main():
    p = argparse.ArgumentParser(description="Keep a local copy of Roster's answers, re-read on change.")
    p.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8090")
    p.add_argument("--bucket", action="append", required=True, help="bucket g:p:m (repeat for more)")
    p.add_argument("--token", default="", help="server.api_token, when the server sets one")
    p.add_argument("--changes", type=int, default=0, help="exit after this many change-driven loads")
    args = p.parse_args()

    cache = Cache()
    last_id = None
    loaded = set()
    changes = 0
    delay = 1.0
    while True:
        headers = {"Accept": "text/event-stream"}
        if args.token:
            headers["Authorization"] = "Bearer " + args.token
        if last_id:
            headers["Last-Event-ID"] = last_id
        query = urllib.parse.urlencode([("bucket", b) for b in args.bucket])
        conn = connect(args.url, timeout=60)
        try:
            conn.request("GET", path(args.url, "/v1/watch?" + query), headers=headers)
            resp = conn.getresponse()
            if resp.status in (400, 401):
                # Bad input or token: retrying cannot help.
                print(resp.read().decode("utf-8", "replace"), file=sys.stderr)
                return 2
            if resp.status != 200:
                raise RuntimeError("watch answered %d: %s" % (resp.status, resp.read()[:200]))
            delay = 1.0
            for ev_id, ev_type, data in events(resp):
                if ev_id:
                    last_id = ev_id
                if ev_type != "change":
                    continue
                bucket = json.loads(data)["bucket"]
                cache.refresh(args.url, args.token, bucket)
                if bucket in loaded:
                    changes += 1
                    if args.changes and changes >= args.changes:
                        return 0
                loaded.add(bucket)
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            print(json.dumps({"reconnecting_in_s": delay, "error": str(e)}), file=sys.stderr, flush=True)
        finally:
            conn.close()
        # Dropped (restart, slow reader, network): reconnect with the last id; nothing is missed.
        time.sleep(delay)
        delay = min(delay * 2, 30.0)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
