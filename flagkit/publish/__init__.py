"""Publishing flag documents: the impact of a change, AppConfig's feature-flag form, a push.

```
diff = diff_documents(old, new, read_tenants("tenants.txt"))
for line in format_diff(diff):
    print(line)

definition = appconfig_definition(document)      # AWS.AppConfig.FeatureFlags form
document = document_from_definition(definition)  # and back

result = push(document, application="shop", environment="prod", profile="flags")
```

`diff_documents` evaluates both documents for every tenant and says exactly who gains,
loses or changes variant on each flag. `appconfig_definition` turns a boolean-form
document into what a hosted configuration version of an `AWS.AppConfig.FeatureFlags`
profile holds (`{"version": "1", "flags": {...}, "values": {...}}`, the format of
AWS's "Type reference for AWS.AppConfig.FeatureFlags"). `push` validates a document,
diffs it against what is deployed, creates a hosted configuration version guarded by
`LatestVersionNumber` and starts a deployment.

One module per job: `tenants` (tenants files), `impact` (the diff and its report),
`appconfig_format` (the feature-flag definition form) and `appconfig_push` (the
control-plane push). boto3 is imported inside the functions that talk to AppConfig,
never when this package or `flagkit` is imported.
"""

from flagkit.publish.appconfig_format import (
    FEATURE_FLAGS_TYPE,
    appconfig_definition,
    document_from_definition,
    is_definition,
    load_flag_document,
)
from flagkit.publish.appconfig_control import AppConfigTarget, DeploymentStrategy
from flagkit.publish.appconfig_push import PushResult, push
from flagkit.publish.impact import (
    Diff,
    FlagDiff,
    FlagStatus,
    VariantChange,
    diff_documents,
    format_diff,
)
from flagkit.publish.tenants import parse_tenants, read_tenants

__all__ = [
    "FEATURE_FLAGS_TYPE",
    "AppConfigTarget",
    "DeploymentStrategy",
    "Diff",
    "FlagDiff",
    "FlagStatus",
    "PushResult",
    "VariantChange",
    "appconfig_definition",
    "diff_documents",
    "document_from_definition",
    "format_diff",
    "is_definition",
    "load_flag_document",
    "parse_tenants",
    "push",
    "read_tenants",
]
