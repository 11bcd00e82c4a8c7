#!/usr/bin/env python3
"""Adds the code-search routes to docs/openapi.json in the style of /api/billing/charge-items
(every 4xx/5xx as application/problem+json). Run from the repository root; rerunning replaces."""

import copy
import json

PATH = "docs/openapi.json"

with open(PATH, encoding="utf-8") as f:
    d = json.load(f)

template = d["paths"]["/api/billing/charge-items"]["get"]
common = {k: v for k, v in template["responses"].items() if k in ("401", "403", "429", "500")}


def problem(description):
    response = copy.deepcopy(template["responses"]["422"])
    response["description"] = description
    return response


def responses(ok_description, schema, extra):
    out = {
        "200": {
            "description": ok_description,
            "headers": copy.deepcopy(template["responses"]["200"]["headers"]),
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }
    out.update(extra)
    out.update(copy.deepcopy(common))
    return out


def query(name, description, schema, required=False):
    return {"name": name, "in": "query", "description": description, "schema": schema, "required": required}


systems = ["icd10cm", "hcpcs", "cpt", "local"]
location = query(
    "locationId",
    "For `local`: the location whose charge master to search; without it, every location the caller may see.",
    {"type": "string"})
date = query("date", "Only codes in force on this date (YYYY-MM-DD).", {"type": "string", "format": "date"})

d["paths"]["/api/billing/codes"] = {
    "get": {
        "operationId": "searchCodes",
        "tags": ["Billing"],
        "summary": "Search medical codes",
        "description": (
            "Searches one code system: `icd10cm` (the full ICD-10-CM April 2026 release), `hcpcs` (HCPCS Level II: "
            "CMS's file from RCM_HCPCS_FILE, else a small sample), `cpt` (the clinic's licensed file from RCM_CPT_FILE; "
            "nothing without one) or `local` (the charge master). The exact code comes first, then codes starting with "
            "the query (dot and case ignored), then codes whose description has a word starting with each query word "
            "(case and accents ignored); billable codes before headers, shorter codes first."),
        "parameters": [
            {"$ref": "#/components/parameters/XRequestId"},
            query("system", "The code system.", {"type": "string", "enum": systems}, True),
            query("q", "A code or its start (`E11.6`, `e116`), or words (`diabetes type 2`, `fract femur`).",
                  {"type": "string", "minLength": 1, "maxLength": 100}, True),
            query("limit", "At most this many codes (default 20).",
                  {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
            date,
            location,
        ],
        "responses": responses("The matching codes, best first.", "CodeMatchList", {
            "403": None,  # replaced below
            "422": problem(
                "Problem: invalid request (`validation-error`); `errors` names every field at fault: `query:system` "
                "(icd10cm, hcpcs, cpt or local), `query:q` (1 to 100 characters), `query:limit` (1 to 100), "
                "`query:date` (YYYY-MM-DD)."),
        }),
    }
}
d["paths"]["/api/billing/codes"]["get"]["responses"]["403"] = problem(
    "Problem: the token's roles do not allow this route, or `locationId` is not one of the caller's locations "
    "(`forbidden`); see docs/permissions.md.")

d["paths"]["/api/billing/codes/{system}/{code}"] = {
    "parameters": [
        {"name": "system", "in": "path", "required": True, "description": "The code system.",
         "schema": {"type": "string", "enum": systems}},
        {"name": "code", "in": "path", "required": True,
         "description": "The code, with or without the ICD-10-CM dot, any case.", "schema": {"type": "string"}},
    ],
    "get": {
        "operationId": "readCode",
        "tags": ["Billing"],
        "summary": "One medical code",
        "description": (
            "What a claim scrubber checks: whether the code exists and is in force on `date`, billable or a header, its "
            "description, effective dates and sex and age edits (ICD-10-CM's are block-level approximations of CMS's "
            "Medicare Code Editor). A CPT code without a licensed file is checked for its format only."),
        "parameters": [{"$ref": "#/components/parameters/XRequestId"}, date, location],
        "responses": responses("The code.", "CodeInfo", {
            "404": problem("Problem: no such code in the system, or not in force on `date` (`not-found`)."),
            "422": problem(
                "Problem: invalid request (`validation-error`); `errors` names every field at fault: `path:system` "
                "(icd10cm, hcpcs, cpt or local), `query:date` (YYYY-MM-DD)."),
        }),
    },
}
d["paths"]["/api/billing/codes/{system}/{code}"]["get"]["responses"]["403"] = copy.deepcopy(
    d["paths"]["/api/billing/codes"]["get"]["responses"]["403"])

code_properties = {
    "system": {"type": "string", "enum": systems},
    "code": {"type": "string", "description": "As claims carry it: upper case, ICD-10-CM without the dot (`E119`); "
             "local codes as the charge master spells them."},
    "display": {"type": "string", "description": "As people read it (`E11.9`)."},
    "description": {"type": "string"},
    "billable": {"type": "boolean", "description": "A complete code; false for a header with more specific codes below."},
    "sexEdit": {"type": "string", "enum": ["male", "female"], "description": "The only sex the code is valid for."},
    "ageEdit": {
        "type": "object", "description": "The ages in years the code is valid for.", "required": ["min", "max"],
        "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
    },
}
d["components"]["schemas"]["CodeMatch"] = {
    "type": "object",
    "description": "A code that matched a search.",
    "required": ["system", "code", "display", "description", "billable"],
    "properties": code_properties,
}
d["components"]["schemas"]["CodeMatchList"] = {
    "type": "object",
    "description": "Codes, best match first.",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/CodeMatch"}}},
}
info_properties = dict(code_properties)
info_properties["effectiveFrom"] = {"type": "string", "format": "date"}
info_properties["effectiveTo"] = {"type": "string", "format": "date"}
d["components"]["schemas"]["CodeInfo"] = {
    "type": "object",
    "description": "One code and the facts a claim scrubber checks.",
    "required": ["system", "code", "display", "description", "billable"],
    "properties": info_properties,
}

with open(PATH, "w", encoding="utf-8") as f:
    json.dump(d, f, indent=2, ensure_ascii=False)
    f.write("\n")
