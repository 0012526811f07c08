"""A small HTTP client for the console API tests: JSON in and out, one
session cookie, the CSRF header when asked, and helpers that start cordon
with a console and put incidents into its store."""

import hashlib
import http.client
import json
import os
import re
import sqlite3
import time

import peers


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class ConsoleClient:
    def __init__(self, port, tls_context=None):
        self.port = port
        self.tls_context = tls_context
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, csrf=True, headers=None, raw=None):
        if self.tls_context:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=self.tls_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        out = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode())
        conn.close()
        return out

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def login(self, user, password):
        r = self.request("POST", "/api/v1/login", {"username": user, "password": password})
        if r.status == 200:
            cookie = r.header("set-cookie")
            self.cookie = cookie.split(";", 1)[0]
            self.csrf = r.json()["csrf_token"]
        return r


def generated_password(cordon, timeout=20):
    """The admin password cordon prints once when it creates the users file."""
    match = peers.wait_until(
        lambda: re.search(r"created user 'admin' with password '([0-9a-f]+)'", cordon.output()),
        timeout=timeout, what="the generated console password")
    return match.group(1)


def seed_incident(db_path, *, sender, recipients, subject, policies, action="block",
                  first_seen=None, content_hash="", repeat_count=0, headers=None, preview=None):
    """Writes one incident row the way the SQLite store does (schema v1).
    `policies` is a list of (name, severity, [(rule, component, count, [samples])]);
    a match may carry a fifth element, its [contexts]. `headers` and `preview`
    (already masked) make the column the object the store writes with them."""
    severities = {"info": 0, "low": 1, "medium": 2, "high": 3}
    first_seen = int(first_seen if first_seen is not None else time.time())
    policies_json = [{"name": n, "severity": s,
                      "matches": [dict({"rule": x[0], "component": x[1], "count": x[2], "samples": x[3]},
                                       **({"contexts": x[4]} if len(x) > 4 else {}))
                                  for x in m]} for (n, s, m) in policies]
    stored = policies_json
    if headers is not None or preview is not None:
        stored = {"policies": policies_json, "headers": headers or "", "preview": preview or ""}
    db = sqlite3.connect(db_path, timeout=10)
    with db:
        cur = db.execute(
            "INSERT INTO incidents (first_seen, last_seen, sender, recipients, recipients_search,"
            " subject, message_id, content_hash, policy_key, policies, max_severity, action,"
            " status, repeat_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'new',?)",
            (first_seen, first_seen, sender, json.dumps(recipients), "".join(r + "\n" for r in recipients),
             subject, f"<{first_seen}.{subject.replace(' ', '.')}@test>", content_hash,
             "\n".join(sorted({p[0] for p in policies})), json.dumps(stored),
             max(severities[p[1]] for p in policies), action, repeat_count))
        incident_id = cur.lastrowid
        for (name, severity, _) in policies:
            db.execute("INSERT INTO incident_policies (incident_id, name, severity) VALUES (?,?,?)",
                       (incident_id, name, severities[severity]))
    db.close()
    return incident_id


def password_hash(password, iterations=1000):
    """A console.users hash made the documented way, with Python's hashlib."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2-sha256${iterations}${salt.hex()}${key.hex()}"


def console_config(console_port, extra=""):
    return f"""
data_dir: ./data
console:
  listen: 127.0.0.1:{console_port}
{extra}
policies:
  - name: PCI card numbers
    severity: high
    match:
      any:
        - identifier: credit_card
    respond:
      - block: "This message contains payment card data and was not sent."
  - name: Project Neptune
    severity: medium
    match:
      any:
        - keywords: ["project neptune"]
"""


def db_path(cordon):
    return os.path.join(cordon.workdir, "data", "incidents.db")
