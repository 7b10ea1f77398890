"""Publishing flag documents: the impact of a change, AppConfig's feature-flag form, a push.

```
diff = diff_documents(old, new, read_tenants("tenants.txt"))
for line in format_diff(diff):
    print(line)

definition = appconfig_definition(document)      # AWS.AppConfig.FeatureFlags form
document = document_from_definition(definition)  # and back

result = push(document, application="shop", environment="prod", profile="flags")
undone = rollback(application="shop", environment="prod", profile="flags")
```

`diff_documents` evaluates both documents for every tenant and says exactly who gains,
loses or changes variant on each flag. `appconfig_definition` turns a boolean-form
document into what a hosted configuration version of an `AWS.AppConfig.FeatureFlags`
profile holds (`{"version": "1", "flags": {...}, "values": {...}}`, the format of
AWS's "Type reference for AWS.AppConfig.FeatureFlags"). `push` validates a document,
diffs it against what is deployed, creates a hosted configuration version guarded by
`LatestVersionNumber` and starts a deployment (nothing when the document equals the
deployed one); `follow_deployment` polls one to its end; `rollback` stops a deployment in
progress or redeploys the version deployed before.

One module per job: `tenants` (tenants files), `impact` (the diff and its report),
`appconfig_format` (the feature-flag definition form), `appconfig_control` (the
control-plane calls they share), `appconfig_push` (the push) and `appconfig_deploy`
(following and rolling back deployments). boto3 is imported inside the functions that
talk to AppConfig, never when this package or `flagkit` is imported.
"""

from flagkit.publish.appconfig_control import AppConfigTarget, DeploymentStrategy
from flagkit.publish.appconfig_deploy import (
    DeploymentProgress,
    RollbackPlan,
    RollbackResult,
    follow_deployment,
    rollback,
)
from flagkit.publish.appconfig_format import (
    FEATURE_FLAGS_TYPE,
    appconfig_definition,
    document_from_definition,
    is_definition,
    load_flag_document,
)
from flagkit.publish.appconfig_push import PushResult, push
from flagkit.publish.coverage import MissingInput
from flagkit.publish.impact import (
    Diff,
    FlagDiff,
    FlagStatus,
    VariantChange,
    diff_documents,
    format_diff,
)
from flagkit.publish.tenants import TenantsFormat, parse_tenants, read_tenants

__all__ = [
    "FEATURE_FLAGS_TYPE",
    "AppConfigTarget",
    "DeploymentProgress",
    "DeploymentStrategy",
    "Diff",
    "FlagDiff",
    "FlagStatus",
    "MissingInput",
    "PushResult",
    "RollbackPlan",
    "RollbackResult",
    "TenantsFormat",
    "VariantChange",
    "appconfig_definition",
    "diff_documents",
    "document_from_definition",
    "follow_deployment",
    "format_diff",
    "is_definition",
    "load_flag_document",
    "parse_tenants",
    "push",
    "read_tenants",
    "rollback",
]
