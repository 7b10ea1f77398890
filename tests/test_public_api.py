"""The public surface: exactly these names, each documented, and a light `import flagkit`."""

from __future__ import annotations

import json
from pathlib import Path

import flagkit
from tests.helpers import run_python

PUBLIC_NAMES = {
    "ChangeCallback",
    "ConfigurationError",
    "CheckedDocument",
    "DocumentError",
    "ErrorCode",
    "Evaluation",
    "FlagkitError",
    "Flags",
    "FlagsStatus",
    "InvalidFlagError",
    "Problem",
    "PublishError",
    "Reason",
    "SchemaValidationError",
    "SourceError",
    "StatusCallback",
    "Tenant",
    "check_document",
    "load_document",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(flagkit.__all__) == PUBLIC_NAMES
    assert sorted(flagkit.__all__) == flagkit.__all__, "keep __all__ sorted"


def test_every_public_name_is_importable_and_documented() -> None:
    for name in PUBLIC_NAMES:
        value = getattr(flagkit, name)
        if name in ("ChangeCallback", "StatusCallback"):  # aliases, documented where defined
            continue
        assert value.__doc__, f"flagkit.{name} has no docstring"


def test_errors_form_one_tree() -> None:
    assert issubclass(flagkit.DocumentError, flagkit.FlagkitError)
    assert issubclass(flagkit.SchemaValidationError, flagkit.DocumentError)
    assert issubclass(flagkit.InvalidFlagError, flagkit.DocumentError)
    assert issubclass(flagkit.SourceError, flagkit.FlagkitError)
    assert issubclass(flagkit.PublishError, flagkit.FlagkitError)
    assert issubclass(flagkit.ConfigurationError, flagkit.FlagkitError)
    assert issubclass(flagkit.ConfigurationError, ValueError)
    assert not issubclass(flagkit.SourceError, flagkit.DocumentError)


def test_reasons_and_error_codes_are_openfeatures_names() -> None:
    assert {reason.value for reason in flagkit.Reason} == {
        "STATIC",
        "TARGETING_MATCH",
        "SPLIT",
        "DISABLED",
        "DEFAULT",
        "ERROR",
        "CACHED",
        "STALE",
        "UNKNOWN",
    }
    assert {code.value for code in flagkit.ErrorCode} == {
        "FLAG_NOT_FOUND",
        "PARSE_ERROR",
        "TYPE_MISMATCH",
        "TARGETING_KEY_MISSING",
        "INVALID_CONTEXT",
        "PROVIDER_NOT_READY",
        "GENERAL",
    }


RICH_DOCUMENT = {
    "_segments": {"beta": ["acme", "globex"]},
    "featureA": {"enabled": True, "percentage": 5, "tenants": ["vip"], "tiers": ["gold"]},
    "checkout": {
        "enabled": True,
        "requires": ["featureA"],
        "segments": ["beta"],
        "rules": [{"when": [{"attribute": "plan", "in": ["pro"]}], "percentage": 50}],
    },
    "theme": {
        "enabled": True,
        "variants": {"dark": "#000", "light": "#fff"},
        "defaultVariant": "light",
        "split": {"dark": 1, "light": 1},
    },
}

HEAVY_MODULES = {
    "jsonschema": "is for explaining a failing document only",
    "boto3": "is for the AppConfig source only",
    "botocore": "is for the AppConfig source only",
    "fastapi": "is for the HTTP service only",
    "pydantic": "is for the HTTP service only",
    "starlette": "is for the HTTP service only",
    "service": "is the HTTP service, which flagkit never imports",
}


def test_loading_and_evaluating_loads_no_heavy_module(tmp_path: Path) -> None:
    """Loading a document and evaluating it loads none of the optional dependencies."""
    document = tmp_path / "flags.json"
    document.write_text(json.dumps(RICH_DOCUMENT))
    code = (
        "import sys, json, flagkit\n"
        "flags = flagkit.Flags.from_file(sys.argv[1])\n"
        "tenant = flagkit.Tenant('acme', 'gold', {'plan': 'pro'})\n"
        "answers = [flags.enabled(key, tenant) for key in flags.keys]\n"
        "answers += [flags.evaluate('theme', 'acme').value, flags.enabled_flags('acme')]\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = run_python(code, document)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert {name: why for name, why in HEAVY_MODULES.items() if name in loaded} == {}


def test_names_built_on_typing_are_plain_module_names() -> None:
    import flagkit.client
    import flagkit.sources
    from flagkit.sources.base import Source

    assert flagkit.sources.Source is Source
    assert "Source" in dir(flagkit.sources)
    assert str(flagkit.client.RefreshMode) == "typing.Literal['thread', 'on_read', 'manual']"
    assert "RefreshMode" in dir(flagkit.client)
