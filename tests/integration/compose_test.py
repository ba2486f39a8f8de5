#!/usr/bin/env python3
"""compose.yaml's structure, where Docker can't run it: the YAML parses; Kafka runs in KRaft
mode from the official image; a one-shot service creates both topics with partition counts and
replication; two API nodes sit behind a load balancer whose config is in the repository; two
decider nodes; a volume per Pulse node; health checks on /healthz or /readyz; the gateway
simulator under a profile; and every Pulse command is a real flag set (the built binary's own
parser, `--check-args`). With `docker compose` installed, `docker compose config` must pass too.

usage: compose_test.py PULSE_BINARY REPO_ROOT
"""
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("compose_test: python3-yaml is not installed; skipped")
    sys.exit(77)

pulse, root = sys.argv[1], sys.argv[2]
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def interpolate(value):
    """Compose's ${VAR:-default} / ${VAR-default} / ${VAR:?err} / $$, with an empty environment."""
    def sub(m):
        body = m.group(1)
        for op in (":-", "-", ":?", "?"):
            if op in body:
                name, rest = body.split(op, 1)
                return rest if op in (":-", "-") else ""
        return ""
    return re.sub(r"\$\{([^}]*)\}", sub, value).replace("$$", "$")


with open(os.path.join(root, "compose.yaml")) as f:
    compose = yaml.safe_load(f)
services = compose.get("services", {})
check(isinstance(services, dict) and services, "no services")

kafka = services.get("kafka", {})
check(str(kafka.get("image", "")).startswith("apache/kafka:"), "kafka: not the official apache/kafka image")
env = kafka.get("environment", {})
check("controller" in str(env.get("KAFKA_PROCESS_ROLES", "")), "kafka: not in KRaft mode (KAFKA_PROCESS_ROLES)")
check("KAFKA_CONTROLLER_QUORUM_VOTERS" in env, "kafka: no controller quorum")
check("healthcheck" in kafka, "kafka: no health check")

init = services.get("kafka-init", {})
init_text = yaml.safe_dump(init)
for needle in ("pulse.commands", "pulse.events", "--partitions", "--replication-factor"):
    check(needle in init_text, f"kafka-init: no {needle}")
check(init.get("restart") == "no", "kafka-init: not a one-shot service")
check(init.get("depends_on", {}).get("kafka", {}).get("condition") == "service_healthy",
      "kafka-init: does not wait for a healthy kafka")

roles = {}
volumes = {}
for name, svc in services.items():
    if svc.get("image") != "pulse:local" and "build" not in svc:
        continue
    command = svc.get("command")
    check(isinstance(command, list) and command, f"{name}: command is not a list")
    if not isinstance(command, list):
        continue
    argv = [interpolate(str(a)) for a in command]
    # The binary's own parser decides whether the flags are real.
    run = subprocess.run([pulse] + argv + ["--check-args"], capture_output=True, text=True)
    check(run.returncode == 0, f"{name}: `pulse {' '.join(argv)}` refused: {run.stderr.strip()}")
    if argv[0] != "serve":
        check(name == "gateway-sim" and svc.get("profiles") == ["sim"],
              f"{name}: a non-server Pulse service outside the sim profile")
        continue
    flags = dict(zip(argv[1::2], argv[2::2]))
    roles[name] = set(flags.get("--roles", "api,projector,decider,ticker,dispatcher").split(","))
    check("--kafka" in flags, f"{name}: not on Kafka")
    data = flags.get("--data-dir")
    mounts = [str(v) for v in svc.get("volumes", [])]
    vol = [m.split(":")[0] for m in mounts if m.split(":")[1:2] == [data]]
    check(len(vol) == 1, f"{name}: no volume at its --data-dir {data}")
    if vol:
        volumes[name] = vol[0]
        check(vol[0] in (compose.get("volumes") or {}), f"{name}: volume {vol[0]} not declared")
    hc = " ".join(map(str, svc.get("healthcheck", {}).get("test", [])))
    check("/healthz" in hc or "/readyz" in hc, f"{name}: no /healthz or /readyz health check")
    if "api" in roles[name]:
        check("/readyz" in hc, f"{name}: an API node's health check should be /readyz")
    check(svc.get("depends_on", {}).get("kafka-init", {}).get("condition") ==
          "service_completed_successfully", f"{name}: does not wait for the topics")

apis = [n for n, r in roles.items() if "api" in r]
deciders = [n for n, r in roles.items() if "decider" in r]
check(len(apis) >= 2, f"fewer than two API nodes: {apis}")
check(len(deciders) >= 2, f"fewer than two decider nodes: {deciders}")
check(len(set(volumes.values())) == len(volumes), f"nodes share a volume: {volumes}")

lbs = [(n, s) for n, s in services.items() if re.match(r"(nginx|haproxy)(:|$)", str(s.get("image", "")))]
check(len(lbs) == 1, "no nginx or haproxy load balancer")
for name, svc in lbs:
    configs = [str(v).split(":")[0] for v in svc.get("volumes", [])]
    check(configs and all(os.path.isfile(os.path.join(root, c)) for c in configs),
          f"{name}: its config is not in the repository: {configs}")
    text = "".join(open(os.path.join(root, c)).read() for c in configs if os.path.isfile(os.path.join(root, c)))
    for api in apis:
        check(f"{api}:8080" in text, f"{name}: does not balance over {api}")
    check(set(svc.get("depends_on", {})) >= set(apis), f"{name}: does not wait for the API nodes")
    check("healthcheck" in svc, f"{name}: no health check")

sim = services.get("gateway-sim", {})
check(sim.get("profiles") == ["sim"], "gateway-sim: not an optional profile")

dockerfile = services.get("api1", {}).get("build", {}).get("dockerfile")
check(dockerfile and os.path.isfile(os.path.join(root, dockerfile)), f"no Dockerfile at {dockerfile}")

docker = shutil.which("docker")
if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
    run = subprocess.run([docker, "compose", "-f", os.path.join(root, "compose.yaml"), "config", "-q"],
                         capture_output=True, text=True)
    check(run.returncode == 0, f"docker compose config: {run.stderr.strip()}")
else:
    print("compose_test: `docker compose` is not installed; structure checks only")

for p in problems:
    print("compose_test: " + p)
print(f"compose_test: {len(services)} services, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
