#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Parse a Prometheus text-format file with the reference parser (python3-prometheus-client) and
# print each sample as `name{label="value",...} value` with labels sorted and values unescaped,
# then `TYPE name type` per family. Exit 1 when the parser rejects the file, 2 without the parser.
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("prom-parse: python3-prometheus-client is missing", file=sys.stderr)
    sys.exit(2)

text = open(sys.argv[1], encoding="utf-8").read()
try:
    for fam in text_string_to_metric_families(text):
        print(f"TYPE {fam.name} {fam.type}")
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            v = int(s.value) if float(s.value).is_integer() else repr(s.value)
            print(f"{s.name}{{{labels}}} {v}")
except Exception as e:  # the parser raises ValueError and friends on malformed input
    print(f"prom-parse: {sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(1)
