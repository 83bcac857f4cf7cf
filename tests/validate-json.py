#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Validate every JSON file in DIR (what the test suite dumped with VD_JSON_DUMP_DIR) against
# the published schema its "kind" names. Exit 1 on any invalid file, unknown kind, or no files.
# A .md argument contributes each of its ```json blocks (the documented examples).
# Usage: tests/validate-json.py [--schemas DOCS_DIR] DIR|FILE|DOC.md...
import argparse
import json
import os
import re
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("validate-json: python3-jsonschema is missing (apt-get install python3-jsonschema)", file=sys.stderr)
    sys.exit(2)

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--schemas", default=os.path.join(here, "..", "docs"))
ap.add_argument("paths", nargs="+")
args = ap.parse_args()

# kind -> schema file; a schema another part of the tree has not written yet is reported, not guessed.
SCHEMAS = {"report": "report.schema.json", "fleet": "fleet.schema.json", "fix-plan": "fix.schema.json",
           "fix-journal": "fix-journal.schema.json"}
validators = {}
for kind, name in SCHEMAS.items():
    path = os.path.join(args.schemas, name)
    if os.path.exists(path):
        with open(path) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        validators[kind] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

files = []  # (name, path or None, text or None)
for p in args.paths:
    if os.path.isdir(p):
        files += [(os.path.join(p, n), os.path.join(p, n), None)
                  for n in sorted(os.listdir(p)) if n.endswith(".json")]
    elif p.endswith(".md"):
        text = open(p, encoding="utf-8").read()
        for m in re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M):
            line = text.count("\n", 0, m.start()) + 1
            files.append((f"{p}:{line}", None, m.group(1)))
    else:
        files.append((p, p, None))

bad = 0
counts = {}
for path, real, text in files:
    try:
        if real:
            with open(real) as f:
                doc = json.load(f)
        else:
            doc = json.loads(text)
    except (OSError, ValueError) as e:
        print(f"{path}: not JSON: {e}")
        bad += 1
        continue
    # Top-level arrays (`list --format json`) and objects without kind (`explain`) have no schema.
    if isinstance(doc, list) or (isinstance(doc, dict) and "kind" not in doc and "checks" not in doc):
        counts["(no schema)"] = counts.get("(no schema)", 0) + 1
        continue
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind in SCHEMAS and kind not in validators:
        # A known kind whose schema is not in this tree yet (fix.schema.json comes with the fix
        # engine): said visibly, once per file, not counted as valid.
        print(f"SKIP: {path}: no {SCHEMAS[kind]} in {args.schemas} for kind {kind!r}")
        counts[f"{kind} (no schema)"] = counts.get(f"{kind} (no schema)", 0) + 1
        continue
    if kind not in validators:
        print(f"{path}: " + ("no kind" if kind is None else f"unknown kind {kind!r}"))
        bad += 1
        continue
    errors = sorted(validators[kind].iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:10]:
        print(f"{path}: {e.json_path}: {e.message[:300]}")
    if errors:
        bad += 1
    counts[kind] = counts.get(kind, 0) + 1

summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
if not files:
    print("validate-json: no JSON files to validate")
    sys.exit(1)
print(f"validate-json: {len(files)} files ({summary}); {bad} invalid")
sys.exit(1 if bad else 0)
