#!/usr/bin/env python3
"""Validates what `wedio sniff` writes against Schemas/wedio-report.schema.json: every line of an NDJSON
stream (event, suppressed and stats lines against the schema's $defs, the report line against the whole
schema) and any report files given with --report. Prints each problem; exits 1 if there is one.

  validate_stream.py STREAM.ndjson [--report FILE ...]
"""
import json
import os
import sys

import jsonschema

SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "Schemas", "wedio-report.schema.json")


def main():
    schema = json.load(open(SCHEMA))
    defs = schema["$defs"]

    def validator(name):
        sub = dict(defs[name])
        sub["$defs"] = defs
        return jsonschema.Draft202012Validator(sub)

    validators = {"event": validator("liveEventLine"), "suppressed": validator("suppressedLine"),
                  "stats": validator("statsLine")}
    whole = jsonschema.Draft202012Validator(schema)
    problems = []
    arguments = sys.argv[1:]
    reports = []
    if "--report" in arguments:
        index = arguments.index("--report")
        reports = arguments[index + 1:]
        arguments = arguments[:index]
    for path in arguments:
        for number, line in enumerate(open(path), 1):
            item = json.loads(line)
            kind = item.get("type")
            if kind == "report":
                errors = list(whole.iter_errors(item["report"]))
                if set(item) != {"type", "report"}:
                    problems.append(f"{path}:{number}: report line with other keys {sorted(item)}")
            elif kind in validators:
                errors = list(validators[kind].iter_errors(item))
            else:
                problems.append(f"{path}:{number}: unknown line type {kind!r}")
                continue
            problems += [f"{path}:{number}: {error.json_path}: {error.message[:200]}" for error in errors[:3]]
    for path in reports:
        problems += [f"{path}: {error.json_path}: {error.message[:200]}" for error in list(whole.iter_errors(json.load(open(path))))[:3]]
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
