"""Validates FHIR R4 JSON files with fhir.resources (its R4B models, whose financial resources
match R4). Usage: python validate-fhir.py FILE...; prints one line per file, exits 1 on any error."""
import importlib
import json
import sys

failed = False
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as handle:
        text = handle.read()
    resource_type = json.loads(text).get("resourceType", "")
    module = importlib.import_module("fhir.resources.R4B." + resource_type.lower())
    model = getattr(module, resource_type)
    try:
        model.model_validate_json(text)
        print(f"{name}: valid {resource_type}")
    except Exception as error:  # pydantic.ValidationError, with every field at fault
        failed = True
        print(f"{name}: INVALID {resource_type}\n{error}")
sys.exit(1 if failed else 0)
