#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into OUT/<target>/ from the repository's test data:
the golden records (tests/data/golden), the webhook payloads and CSV files (tests/data), the
string literals of the unit tests of each parser, and the JSON examples of the gateway protocol
documents. Also OUT/codec.dict: json.dict plus every field name a record declares.

Usage: make_seeds.py REPO_ROOT OUT_DIR
"""
import base64
import hashlib
import hmac
import json
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
out = pathlib.Path(sys.argv[2])

# A C++ string literal: raw R"(…)" or ordinary "…" (the escapes the tests use).
RAW = re.compile(r'R"\((.*?)\)"', re.S)
QUOTED = re.compile(r'(?<![R\w])"((?:[^"\\\n]|\\.)*)"')


def unescape(s):
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1", "replace")


def cpp_literals(path):
    """The literals of a C++ file as bytes; adjacent raw literals (one JSON document split over
    lines) are joined."""
    text = path.read_text(encoding="utf-8")
    found = []
    for m in QUOTED.finditer(RAW.sub("", text)):
        try:
            found.append(unescape(m.group(1)).decode("utf-8", "surrogateescape").encode(
                "utf-8", "surrogateescape"))
        except (UnicodeDecodeError, UnicodeEncodeError):
            found.append(m.group(1).encode())
    raw_run = re.compile(r'(?:R"\((?:.*?)\)"\s*)+', re.S)
    for m in raw_run.finditer(text):
        found.append("".join(RAW.findall(m.group(0))).encode())
    return found


def markdown_json(path):
    blocks = re.findall(r"```json\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    inline = re.findall(r"`(\{.*?\})`", path.read_text(encoding="utf-8"))
    return [b.encode() for b in blocks + inline]


def json_strings(value):
    """Every string in a JSON document, keys too."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_strings(v)
    elif isinstance(value, str):
        yield value


goldens = sorted((root / "tests/data/golden").rglob("*.json"))
payloads = sorted((root / "tests/data/webhooks").glob("*.json"))
golden_strings = sorted({s for p in goldens + payloads for s in json_strings(json.loads(p.read_text()))})
docs = [root / "adapters/gateway/PROTOCOL.md", root / "adapters/gateway/SMSGATE.md"]


def test_literals(*names):
    return [x for n in names for x in cpp_literals(root / "tests" / n)]


def jwt(header, payload, key=b"fuzz-signing-key"):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    signing = b64(header) + b"." + b64(payload)
    return signing + b"." + b64(hmac.new(key, signing, hashlib.sha256).digest())


claims = json.dumps({"sub": "key_01m7fack9k0b87cy", "orgId": "org_01jwn8sr290z78nq",
                     "iat": 1775000000, "exp": 4102444800, "jti": "a1b2", "typ": "key"},
                    separators=(",", ":")).encode()
header = b'{"alg":"HS256","typ":"JWT"}'

phone_like = [s.encode() for s in golden_strings if re.fullmatch(r"\+?[0-9 ()+.-]{6,20}", s)]
times = [s.encode() for s in golden_strings if re.match(r"\d{4}-\d\d-\d\dT", s)]
urls = [s.encode() for s in golden_strings if s.startswith(("http://", "https://"))]
json_docs = [p.read_bytes() for p in payloads] + [x for d in docs for x in markdown_json(d)]

corpora = {
    "codec": [p.read_bytes() for p in goldens],
    "csv": [p.read_bytes() for p in sorted((root / "tests/data").rglob("*.csv"))]
    + test_literals("domain/csv_test.cpp"),
    "phone": phone_like + test_literals("adapters/phone_parser_test.cpp"),
    "time": times + test_literals("domain/time_test.cpp"),
    "template": [s.encode() for s in golden_strings if "{{" in s]
    + test_literals("domain/template_test.cpp"),
    "text": [s.encode() for s in golden_strings[:200]] + test_literals("domain/text_test.cpp"),
    "url": urls + test_literals("adapters/webhooks_test.cpp"),
    "jwt": [jwt(header, claims), header + b"\n" + claims, claims,
            jwt(b'{"alg":"none"}', claims)] + test_literals("adapters/auth_test.cpp"),
    "request_json": json_docs + test_literals("adapters/request_json_test.cpp"),
    "gateway_protocol": json_docs + test_literals("adapters/gateway_sim_test.cpp"),
    "smsgate": json_docs + test_literals("adapters/smsgate_json_test.cpp"),
}

for target, seeds in corpora.items():
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        if seed:
            (d / hashlib.sha1(seed).hexdigest()).write_bytes(seed)

# The codec's dictionary: the JSON tokens and every declared field name and record type.
names = set()
for src in ["domain", "commands", "projections"]:
    for h in (root / src).glob("*.h"):
        text = h.read_text(encoding="utf-8")
        names.update(re.findall(r'\bf\("(\w+)"', text))
        names.update(re.findall(r'kType = "(\w+)"', text))
base = (root / "tests/fuzz/json.dict").read_text(encoding="utf-8")
(out / "codec.dict").write_text(base + "".join(f'"\\"{n}\\""\n' for n in sorted(names)))
print(f"make_seeds: {sum(len(list((out / t).iterdir())) for t in corpora)} seeds for "
      f"{len(corpora)} targets, {len(names)} names in codec.dict")
