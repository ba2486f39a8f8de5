#!/usr/bin/env python3
"""Crash matrix: multi-command workflows under kill -9.

Runs the real `pulse serve` on a temporary data directory, drives the workflows of several
commands over HTTP from client threads (sign-up, organisation creation, campaign creation on a
5,000-contact list: a draft, 10 chunks, a launch; CSV imports of 2,000 rows into new lists: 4
staged chunks, the last completing the import), kills the server with SIGKILL at a random
point of each round and restarts it. After the last round it lets the server settle (the
process manager finishes pending organisations, the clock discards abandoned drafts and
imports), stops it and checks, from the event log (`pulse events`) and the REST API:

- every organisation registered or claimed was created (no account without its organisation,
  and every signed-up account that logs in reaches its organisation);
- every drafted campaign ended launched with all its messages queued, or discarded and
  cancelled; none is left a draft;
- /api/stats counts exactly the messages of campaigns that were not discarded, and so does the
  plan's monthly usage (probed through the quota: restarted with a limit of usage + 1, a
  2-message campaign is refused with "1 SMS remaining");
- every CSV import that staged a chunk ended completed or discarded, and every import's list
  holds all of the file's contacts (completed, and every import answered 200) or none of them;
- `pulse replay --verify` rebuilds the read models identically.

Usage: crash_matrix.py PULSE [--rounds N] [--seed S] [--keep]
                       [--workflows signup,org,campaign,import] [--import-timeout S]
Exit 0 when every check holds; 1 with the failed checks listed. Prints one JSON summary line.
"""
import argparse
import atexit
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

CONTACTS = 5000
IMPORT_ROWS = 2000  # 4 chunks of 500: one staged workflow
WORKFLOWS = ("signup", "org", "campaign", "import")
PASSWORD = "correct horse battery"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, token=None, ctype="application/json", timeout=30):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", ctype)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        # A client address of its own per request (the server trusts this proxy): the log-in
        # throttle per address must not hold the matrix back.
        req.add_header("X-Forwarded-For", "10.%d.%d.%d" % tuple(random.randrange(1, 255)
                                                               for _ in range(3)))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"null")
            except ValueError:
                return e.code, raw.decode(errors="replace")
        # The server died mid-request: the workflow was interrupted.
        except (urllib.error.URLError, ConnectionError, OSError, TimeoutError):
            return None, None


class Server:
    def __init__(self, pulse, data_dir, plans, extra):
        self.pulse, self.data_dir, self.plans, self.extra = pulse, data_dir, plans, extra
        self.proc = None
        self.port = None

    def start(self, plans=None):
        self.port = free_port()
        args = [self.pulse, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                self.data_dir, "--plans", plans or self.plans] + self.extra
        self.log = open(os.path.join(os.path.dirname(self.data_dir), "serve.log"), "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        api = Api(f"http://127.0.0.1:{self.port}")
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulse serve exited with {self.proc.returncode}")
            status, _ = api.call("GET", "/readyz", timeout=2)
            if status == 200:
                return api
            time.sleep(0.1)
        raise RuntimeError("pulse serve did not get ready in 60 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()


def retried(f, tries=60):
    """f() until it is not a 503/429 (the password hash runs at the lowest CPU priority)."""
    for _ in range(tries):
        status, body = f()
        if status not in (429, 503):
            return status, body
        time.sleep(0.5)
    return status, body


def login(api, email):
    status, body = retried(
        lambda: api.call("POST", "/api/auth/login", {"email": email, "password": PASSWORD}))
    return body["token"] if status == 200 else None


def csv(n):
    rows = ["phone,firstName"]
    rows += [f"+1415{5550000 + i:07},First{i}" for i in range(n)]
    return "\n".join(rows) + "\n"


def later():
    t = datetime.now(timezone.utc) + timedelta(days=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Load:
    """The client threads of one round; each records what it attempted and what it saw."""

    def __init__(self, api, setup, stats, rng):
        self.api, self.setup, self.stats, self.rng = api, setup, stats, rng
        self.stop = threading.Event()

    def signups(self):
        while not self.stop.is_set():
            email = f"u{self.rng.getrandbits(48):012x}@example.com"
            self.stats["signup_attempts"].append(email)
            status, _ = self.api.call("POST", "/api/auth/signup",
                                      {"email": email, "password": PASSWORD, "name": "Crash",
                                       "organizationName": "Crash org"})
            if status is None:
                self.stats["signup_interrupted"] += 1
                return

    def organizations(self):
        token = self.setup["user_token"]  # a log-in's token: only users create organisations
        while not self.stop.is_set():
            status, _ = self.api.call("POST", "/api/organizations", {"name": "Branch"}, token)
            if status is None:
                self.stats["org_interrupted"] += 1
                return

    def campaigns(self):
        token = self.setup["token"]
        while not self.stop.is_set():
            status, _ = self.api.call(
                "POST", "/api/campaigns",
                {"name": "Crash", "message": "Hi {{firstName}}",
                 "contactListId": self.setup["list"], "scheduledAt": later()}, token, timeout=60)
            if status is None:
                self.stats["campaign_interrupted"] += 1
                return

    def imports(self):
        """A new list, then a 2,000-row file into it: the list must end with all or none."""
        token = self.setup["token"]
        body = csv(IMPORT_ROWS)
        while not self.stop.is_set():
            status, lst = self.api.call("POST", "/api/contacts", {"name": "import"}, token)
            if status is None:
                return
            if status != 201:
                continue
            self.stats["import_lists"].append(lst["id"])
            status, rep = self.api.call("POST", f"/api/contacts/{lst['id']}/import", body, token,
                                        ctype="text/csv", timeout=120)
            if status is None:
                self.stats["imports_cut_off"] += 1
                return
            if status == 200:
                self.stats["imports_answered"][lst["id"]] = rep
            else:
                self.stats["import_errors"].append(status)

    def run(self, workflows):
        chosen = {"signup": [self.signups] * 3, "org": [self.organizations] * 2,
                  "campaign": [self.campaigns] * 2, "import": [self.imports] * 2}
        threads = [threading.Thread(target=f, daemon=True)
                   for w in workflows for f in chosen[w]]
        for t in threads:
            t.start()
        return threads


def events(pulse, data_dir):
    out = subprocess.run([pulse, "events", "--data-dir", data_dir], capture_output=True,
                         text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pulse")
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--draft-timeout", type=int, default=2,
                    help="--draft-timeout-seconds for the server (0: don't pass the flag)")
    ap.add_argument("--import-timeout", type=int, default=2,
                    help="--import-timeout-seconds for the server (0: don't pass the flag)")
    ap.add_argument("--workflows", default=",".join(WORKFLOWS),
                    help="comma-separated, of " + ",".join(WORKFLOWS))
    a = ap.parse_args()
    workflows = [w for w in a.workflows.split(",") if w]
    if not workflows or any(w not in WORKFLOWS for w in workflows):
        ap.error(f"--workflows takes some of {','.join(WORKFLOWS)}")
    rng = random.Random(a.seed)
    root = tempfile.mkdtemp(prefix="pulse-crash-")
    data_dir = os.path.join(root, "pulse-data")
    plans = os.path.join(root, "plans.json")
    big = {"monthlySms": 100000000, "organizations": 100000, "apiKeys": 100,
           "sendPerMinute": 100000}
    with open(plans, "w") as f:
        json.dump({"free": big}, f)
    extra = ["--trusted-proxy", "127.0.0.1/32"]
    if a.draft_timeout:
        extra += ["--draft-timeout-seconds", str(a.draft_timeout)]
    if a.import_timeout:
        extra += ["--import-timeout-seconds", str(a.import_timeout)]
    server = Server(a.pulse, data_dir, plans, extra)
    # A failed check or setup must not leave the server running.
    atexit.register(lambda: server.proc and server.proc.poll() is None and server.kill9())
    started = time.time()
    stats = {"signup_attempts": [], "signup_interrupted": 0, "org_interrupted": 0,
             "campaign_interrupted": 0, "import_lists": [], "imports_cut_off": 0,
             "imports_answered": {}, "import_errors": []}
    failures = []

    # Setup: the account that creates organisations and campaigns, a 5,000-contact list and a
    # 2-contact list for the quota probe.
    api = server.start()
    status, body = retried(lambda: api.call("POST", "/api/auth/signup",
                                            {"email": "owner@example.com", "password": PASSWORD}))
    assert status == 201, (status, body)
    setup = {"owner": "owner@example.com", "org": body.get("organizationId")}
    _, tok = api.call("POST", "/api/auth/token", {"apiKey": body["apiKey"]})
    setup["token"] = tok["token"]
    setup["user_token"] = login(api, setup["owner"])  # signed with the stored JWT secret
    for name, n in (("big", CONTACTS), ("probe", 2)):
        status, lst = api.call("POST", "/api/contacts", {"name": name}, setup["token"])
        assert status == 201, (status, lst)
        status, rep = api.call("POST", f"/api/contacts/{lst['id']}/import", csv(n),
                               setup["token"], ctype="text/csv", timeout=120)
        assert status == 200, (status, rep)
        setup["list" if name == "big" else "probe"] = lst["id"]

    # The rounds: load, a SIGKILL at a random point, a restart.
    for _ in range(a.rounds):
        load = Load(api, setup, stats, rng)
        threads = load.run(workflows)
        time.sleep(rng.uniform(0.3, 2.5))
        server.kill9()
        load.stop.set()
        for t in threads:
            t.join(timeout=90)
        api = server.start()

    # Settle: pending organisations are finished (5 s grace), abandoned drafts discarded.
    deadline = time.time() + 60
    while True:
        time.sleep(2)
        evs = None
        server.stop()
        evs = events(a.pulse, data_dir)
        drafted = {e["data"]["campaignId"] for e in evs if e["type"] == "CampaignDrafted"}
        ended = {e["data"]["campaignId"] for e in evs
                 if e["type"] in ("CampaignScheduled", "CampaignStarted", "CampaignCancelled")}
        wanted = {e["data"]["defaultOrgId"] for e in evs if e["type"] == "UserRegistered"}
        wanted |= {e["data"]["orgId"] for e in evs if e["type"] == "OrganizationClaimed"}
        created = {e["orgId"] for e in evs if e["type"] == "OrganizationCreated"}
        staged = {e["data"]["importId"] for e in evs if e["type"] == "ContactsStaged"}
        closed = {e["data"]["importId"] for e in evs
                  if e["type"] in ("ContactImportCompleted", "ContactImportDiscarded")}
        if (drafted <= ended and wanted <= created and staged <= closed) or \
                time.time() > deadline:
            break
        api = server.start()
    stuck_drafts = sorted(drafted - ended)
    stuck_orgs = sorted(wanted - created)
    stuck_imports = sorted(staged - closed)
    if stuck_imports:
        failures.append(f"{len(stuck_imports)} import(s) left open: {stuck_imports[:3]}")
    if stuck_drafts:
        failures.append(f"{len(stuck_drafts)} campaign(s) left as drafts: {stuck_drafts[:3]}")
    if stuck_orgs:
        failures.append(f"{len(stuck_orgs)} organisation(s) registered or claimed, never "
                        f"created: {stuck_orgs[:3]}")

    # A launched campaign has all its messages queued.
    queued, total, discarded = {}, {}, {}
    for e in evs:
        d = e["data"]
        if e["type"] == "CampaignDrafted":
            total[d["campaignId"]] = d["totalMessages"]
        elif e["type"] == "MessagesQueued":
            queued[d["campaignId"]] = queued.get(d["campaignId"], 0) + len(d["messages"])
        elif e["type"] == "CampaignDiscarded":
            discarded[d["campaignId"]] = d["messages"]
    launched = {e["data"]["campaignId"] for e in evs
                if e["type"] in ("CampaignScheduled", "CampaignStarted")}
    for c in launched:
        if queued.get(c, 0) != total.get(c):
            failures.append(f"campaign {c} launched with {queued.get(c, 0)} of {total.get(c)}")
    for c, n in discarded.items():
        if n != queued.get(c, 0):
            failures.append(f"campaign {c} discarded {n} of its {queued.get(c, 0)} messages")
    # What was actually queued: the launched campaigns' messages (a discarded draft's are given
    # back; an older server without CampaignDiscarded kept counting them).
    usage = sum(queued.get(c, 0) for c in launched)
    half_done = sum(1 for c in drafted - launched if queued.get(c, 0) > 0)

    # The REST API: stats, sign-ups, and the month's usage through the quota.
    limit = usage + 1
    with open(plans + ".probe", "w") as f:
        json.dump({"free": dict(big, monthlySms=limit)}, f)
    api = server.start(plans + ".probe")
    _, st = api.call("GET", "/api/stats", token=setup["token"])
    if st["queued"] != usage:
        failures.append(f"/api/stats queued {st['queued']}, messages of launched campaigns "
                        f"{usage}")
    status, body = api.call("POST", "/api/campaigns",
                            {"name": "Probe", "message": "Hi", "contactListId": setup["probe"],
                             "scheduledAt": later()}, setup["token"])
    details = body.get("details", "") if isinstance(body, dict) else ""
    if status == 201 or not details.startswith("1 SMS remaining"):
        failures.append(f"monthly usage is not {usage}: a 2-message campaign with a limit of "
                        f"{limit} got {status} {details!r}")
    locked_out = 0
    registered = {e["data"]["email"] for e in evs if e["type"] == "UserRegistered"}
    for email in stats["signup_attempts"]:
        if email not in registered:
            continue  # the crash came before its RegisterUser: no account, sign up again
        token = login(api, email)
        status, orgs = api.call("GET", "/api/api-keys", token=token) if token else (None, None)
        if status != 200:
            locked_out += 1
    if locked_out:
        failures.append(f"{locked_out} signed-up account(s) locked out (no organisation)")

    # Imports: each list the import threads made holds the whole file or nothing of it.
    completed = {e["data"]["listId"]: e["data"] for e in evs
                 if e["type"] == "ContactImportCompleted"}
    discarded_imports = [e["data"] for e in evs if e["type"] == "ContactImportDiscarded"]
    staged_lists = {e["data"]["listId"] for e in evs if e["type"] == "ContactsStaged"}
    import_lists = {e["data"]["listId"] for e in evs
                    if e["type"] == "ContactListCreated" and e["data"]["name"] == "import"}
    import_lists |= set(stats["import_lists"])
    partial = 0
    for lid in sorted(import_lists):
        status, lst = api.call("GET", f"/api/contacts/{lid}?limit=1", token=setup["token"])
        if status != 200:
            failures.append(f"import list {lid}: GET answered {status}")
            continue
        n = lst["contactCount"]
        if n not in (0, IMPORT_ROWS):
            partial += 1
            failures.append(f"import list {lid} holds {n} of the file's {IMPORT_ROWS} contacts")
        elif lid in completed and n != IMPORT_ROWS:
            failures.append(f"import list {lid}: import completed, list holds {n}")
        elif lid in stats["imports_answered"] and n != IMPORT_ROWS:
            failures.append(f"import list {lid}: import answered 200, list holds {n}")
        elif lid not in completed and n != 0:
            failures.append(f"import list {lid}: no import completed, list holds {n}")
    for lid, rep in stats["imports_answered"].items():
        if (rep.get("imported"), rep.get("rejected"), rep.get("contactCount")) != \
                (IMPORT_ROWS, [], IMPORT_ROWS):
            failures.append(f"import into {lid} answered {str(rep)[:200]}")
    for lid, d in completed.items():
        if lid in import_lists and d["contacts"] != IMPORT_ROWS:
            failures.append(f"import into {lid} completed with {d['contacts']} contacts")
    server.stop()

    verify = subprocess.run([a.pulse, "replay", "--data-dir", data_dir, "--into",
                             os.path.join(root, "rebuilt"), "--verify"],
                            capture_output=True, text=True)
    if verify.returncode != 0:
        failures.append(f"replay --verify exit {verify.returncode}: {verify.stdout[-300:]}"
                        f"{verify.stderr[-300:]}")

    # What the process manager finished: organisations whose request died between the commands.
    finished_by_pm = 0
    with open(os.path.join(root, "serve.log")) as f:
        for line in f:
            if "workflows: created " in line:
                finished_by_pm += int(line.split("workflows: created ")[1].split()[0])
    summary = {
        "rounds": a.rounds, "seed": a.seed, "workflows": ",".join(workflows),
        "seconds": round(time.time() - started),
        "signups_interrupted": stats["signup_interrupted"],
        "orgs_interrupted": stats["org_interrupted"],
        "campaigns_interrupted": stats["campaign_interrupted"],
        "campaigns_drafted": len(drafted), "campaigns_launched": len(launched & drafted),
        "campaigns_discarded": len(discarded), "campaigns_half_filled_at_crash": half_done,
        "organizations_wanted": len(wanted), "organizations_finished_by_pm": finished_by_pm,
        "stuck_drafts": len(stuck_drafts),
        "stuck_organizations": len(stuck_orgs), "locked_out_accounts": locked_out,
        "import_lists": len(import_lists), "imports_staged": len(staged_lists & import_lists),
        "imports_completed": len(set(completed) & import_lists),
        "imports_answered": len(stats["imports_answered"]),
        "imports_cut_off": stats["imports_cut_off"],
        "imports_refused": len(stats["import_errors"]),
        "imports_discarded_abandoned": sum(1 for d in discarded_imports
                                           if d["reason"] == "abandoned"),
        "imports_partial": partial, "stuck_imports": len(stuck_imports),
        "usage": usage, "replay_verify": verify.returncode, "failures": len(failures),
    }
    print(json.dumps(summary))
    for f in failures:
        print("FAIL:", f)
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("kept", root)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
