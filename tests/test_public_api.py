"""The public surface: exactly these names, each documented, and a light `import flagkit`."""

from __future__ import annotations

import json
import subprocess
import sys

import flagkit

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


def test_import_flagkit_loads_no_heavy_module() -> None:
    """jsonschema is for failing documents only; logging and OpenSSL are not needed to start."""
    code = (
        "import sys, json, flagkit\n"
        "flagkit.Flags.from_dict({'featureA': {'enabled': True, 'percentage': 5}})\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout))
    assert not {"jsonschema", "logging", "hashlib", "boto3", "botocore"} & loaded
