"""Validates Langfuse batch-ingestion request bodies against Langfuse's own schema.

Usage: python check_ingestion.py BODIES.json
BODIES.json holds a list of request bodies ({"batch": [event, ...]}). Each event is parsed
with Fern's parse_obj_as (the SDK's own parser, which applies the camelCase aliases) as a
langfuse.api.ingestion.types.IngestionEvent. The models accept unknown keys silently
(extra="allow"), so every key left in a model's extras is reported as unknown. Exits 1 on
any problem, printing one line per problem.
"""

import json
import sys

import pydantic
from langfuse.api.core.pydantic_utilities import parse_obj_as
from langfuse.api.ingestion.types import IngestionEvent

# Free-form fields: whatever is under them is the user's, not the schema's.
FREE_FORM = {"metadata", "input", "output", "model_parameters", "usage_details", "cost_details"}


def unknown_keys(model, path):
    found = []
    if isinstance(model, pydantic.BaseModel):
        for key in (model.model_extra or {}):
            found.append(f"{path}.{key}")
        for name in type(model).model_fields:
            if name in FREE_FORM:
                continue
            found.extend(unknown_keys(getattr(model, name), f"{path}.{name}"))
    elif isinstance(model, (list, tuple)):
        for i, item in enumerate(model):
            found.extend(unknown_keys(item, f"{path}[{i}]"))
    return found


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        bodies = json.load(f)
    problems = []
    events = 0
    for b, body in enumerate(bodies):
        if set(body) - {"batch", "metadata"}:
            problems.append(f"body {b}: unknown top-level keys {sorted(set(body) - {'batch', 'metadata'})}")
        for e, event in enumerate(body.get("batch", [])):
            events += 1
            where = f"body {b} event {e} ({event.get('type')}, {event.get('id')})"
            try:
                parsed = parse_obj_as(IngestionEvent, event)
            except Exception as err:  # pydantic.ValidationError and friends
                problems.append(f"{where}: invalid: {err}".replace("\n", " | "))
                continue
            for key in unknown_keys(parsed, "event"):
                problems.append(f"{where}: key unknown to the schema: {key}")
    for p in problems:
        print(p)
    print(f"checked {events} events in {len(bodies)} bodies, {len(problems)} problems")
    sys.exit(1 if problems or events == 0 else 0)


if __name__ == "__main__":
    main()
