"""flagkit: deterministic, multi-tenant feature flags for Python services.

```
import flagkit

flags = flagkit.Flags.from_file("flags.json")
if flags.enabled("featureA", flagkit.Tenant("acme", tier="enterprise")):
    ...
```
"""

from flagkit.client import ChangeCallback, Flags, FlagsStatus, StatusCallback
from flagkit.document import CheckedDocument, check_document, load_document
from flagkit.errors import (
    ConfigurationError,
    DocumentError,
    FlagkitError,
    InvalidFlagError,
    Problem,
    PublishError,
    SchemaValidationError,
    SourceError,
)
from flagkit.model import ErrorCode, Evaluation, Reason, Tenant

__all__ = [
    "ChangeCallback",
    "CheckedDocument",
    "ConfigurationError",
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
]

__version__ = "0.1.0"
