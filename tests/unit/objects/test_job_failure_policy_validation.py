"""A Job's podFailurePolicy, backoffLimitPerIndex and maxFailedIndexes, validated with the causes a
1.37 apiserver reports (pkg/apis/batch/validation: validatePodFailurePolicy and validateJobSpec)."""

import copy

import pytest

from clusters.objects.validation import Cause, invalid_status_message
from tests.unit.objects.test_defaults import PI_JOB
from tests.unit.objects.test_validation import causes_of, resource

POLICY_JOB = copy.deepcopy(PI_JOB)
POLICY_JOB["spec"]["podFailurePolicy"] = {
    "rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "pi", "operator": "In", "values": [42]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
    ]
}
PER_INDEX_JOB = copy.deepcopy(PI_JOB)
PER_INDEX_JOB["spec"].update(completionMode="Indexed", completions=10, backoffLimitPerIndex=1, maxFailedIndexes=5)
RULES = "spec.podFailurePolicy.rules"


def with_rules(*rules: dict) -> dict:
    job = copy.deepcopy(POLICY_JOB)
    job["spec"]["podFailurePolicy"]["rules"] = list(rules)
    return job


def with_spec(base: dict, **spec) -> dict:
    job = copy.deepcopy(base)
    job["spec"].update(spec)
    return job


def exit_codes(operator="In", values=(42,), **more) -> dict:
    return {"action": "FailJob", "onExitCodes": {"operator": operator, "values": list(values), **more}}


def test_the_documentations_jobs_are_valid():
    assert causes_of(POLICY_JOB) == []
    assert causes_of(PER_INDEX_JOB) == []
    fail_index = {"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}
    assert causes_of(with_spec(PER_INDEX_JOB, podFailurePolicy={"rules": [fail_index]})) == []


CASES = [
    (
        "restart-policy-on-failure",
        with_spec(POLICY_JOB, template={"spec": {**PI_JOB["spec"]["template"]["spec"], "restartPolicy": "OnFailure"}}),
        [
            Cause(
                "FieldValueInvalid",
                'Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
                "spec.template.spec.restartPolicy",
            )
        ],
    ),
    (
        "too-many-rules",
        with_rules(*[exit_codes()] * 21),
        [Cause("FieldValueTooMany", "Too many: 21: must have at most 20 items", RULES)],
    ),
    (
        "unknown-action",
        with_rules({**exit_codes(), "action": "Retry"}),
        [
            Cause(
                "FieldValueNotSupported",
                'Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
                f"{RULES}[0].action",
            )
        ],
    ),
    (
        "no-action",
        with_rules({"onExitCodes": {"operator": "In", "values": [42]}}),
        [
            Cause(
                "FieldValueRequired",
                'Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
                f"{RULES}[0].action",
            )
        ],
    ),
    (
        "fail-index-without-backoff-limit-per-index",
        with_rules({**exit_codes(), "action": "FailIndex"}),
        [
            Cause(
                "FieldValueInvalid",
                'Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
                f"{RULES}[0].action",
            )
        ],
    ),
    (
        "unknown-operator",
        with_rules(exit_codes(operator="Equals")),
        [
            Cause(
                "FieldValueNotSupported",
                'Unsupported value: "Equals": supported values: "In", "NotIn"',
                f"{RULES}[0].onExitCodes.operator",
            )
        ],
    ),
    (
        "no-operator",
        with_rules({"action": "Count", "onExitCodes": {"values": [1]}}),
        [
            Cause(
                "FieldValueRequired",
                'Required value: valid values: ["In" "NotIn"]',
                f"{RULES}[0].onExitCodes.operator",
            )
        ],
    ),
    (
        "unknown-container",
        with_rules(exit_codes(containerName="main")),
        [
            Cause(
                "FieldValueInvalid",
                'Invalid value: "main": must be one of the container or initContainer names in the pod template',
                f"{RULES}[0].onExitCodes.containerName",
            )
        ],
    ),
    (
        "no-values",
        with_rules(exit_codes(values=())),
        [
            Cause(
                "FieldValueInvalid",
                "Invalid value: []: at least one value is required",
                f"{RULES}[0].onExitCodes.values",
            )
        ],
    ),
    (
        "too-many-values",
        with_rules(exit_codes(values=range(1, 257))),
        [Cause("FieldValueTooMany", "Too many: 256: must have at most 255 items", f"{RULES}[0].onExitCodes.values")],
    ),
    (
        "zero-unordered-and-repeated-values",
        with_rules(exit_codes(values=(0, 5, 3, 5))),
        [
            Cause(
                "FieldValueInvalid",
                "Invalid value: 0: must not be 0 for the In operator",
                f"{RULES}[0].onExitCodes.values[0]",
            ),
            Cause("FieldValueDuplicate", "Duplicate value: 5", f"{RULES}[0].onExitCodes.values[3]"),
            Cause("FieldValueInvalid", "Invalid value: [0,5,3,5]: must be ordered", f"{RULES}[0].onExitCodes.values"),
        ],
    ),
    ("zero-is-fine-for-not-in", with_rules(exit_codes(operator="NotIn", values=(0, 1))), []),
    (
        "both-requirements",
        with_rules({**exit_codes(), "onPodConditions": [{"type": "DisruptionTarget"}]}),
        [
            Cause(
                "FieldValueInvalid",
                "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported",
                f"{RULES}[0]",
            )
        ],
    ),
    (
        "no-requirement",
        with_rules({"action": "Ignore"}),
        [
            Cause(
                "FieldValueInvalid",
                "Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
                f"{RULES}[0]",
            )
        ],
    ),
    (
        "bad-condition-pattern",
        with_rules({"action": "Ignore", "onPodConditions": [{"type": "Disruption Target", "status": "Maybe"}]}),
        [
            Cause(
                "FieldValueInvalid",
                "Invalid value: \"Disruption Target\": name part must consist of alphanumeric characters, '-', "
                "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                f"{RULES}[0].onPodConditions[0].type",
            ),
            Cause(
                "FieldValueNotSupported",
                'Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
                f"{RULES}[0].onPodConditions[0].status",
            ),
        ],
    ),
    (
        "too-many-condition-patterns",
        with_rules({"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}] * 21}),
        [Cause("FieldValueTooMany", "Too many: 21: must have at most 20 items", f"{RULES}[0].onPodConditions")],
    ),
    (
        "replacement-policy-other-than-failed",
        with_spec(POLICY_JOB, podReplacementPolicy="TerminatingOrFailed"),
        [
            Cause(
                "FieldValueNotSupported",
                'Unsupported value: "TerminatingOrFailed": supported values: "Failed"',
                "spec.podReplacementPolicy",
            )
        ],
    ),
    (
        "max-failed-indexes-without-backoff-limit-per-index",
        with_spec(PER_INDEX_JOB, backoffLimitPerIndex=None),
        [
            Cause(
                "FieldValueRequired", "Required value: when maxFailedIndexes is specified", "spec.backoffLimitPerIndex"
            )
        ],
    ),
    (
        "max-failed-indexes-above-completions",
        with_spec(PER_INDEX_JOB, maxFailedIndexes=11),
        [
            Cause(
                "FieldValueInvalid",
                "Invalid value: 11: must be less than or equal to completions",
                "spec.maxFailedIndexes",
            )
        ],
    ),
    (
        "per-index-needs-indexed",
        with_spec(PER_INDEX_JOB, completionMode="NonIndexed"),
        [
            Cause(
                "FieldValueInvalid", "Invalid value: 1: requires indexed completion mode", "spec.backoffLimitPerIndex"
            ),
            Cause("FieldValueInvalid", "Invalid value: 5: requires indexed completion mode", "spec.maxFailedIndexes"),
        ],
    ),
    (
        "very-large-job-per-index",
        with_spec(PER_INDEX_JOB, completions=200_000, parallelism=20_000, maxFailedIndexes=None),
        [
            Cause(
                "FieldValueRequired",
                "Required value: must be specified when completions is above 100000",
                "spec.maxFailedIndexes",
            ),
            Cause(
                "FieldValueInvalid",
                "Invalid value: 20000: must be less than or equal to 10000 when completions are above 100000 and "
                "used with backoff limit per index",
                "spec.parallelism",
            ),
        ],
    ),
]


def without_nones(job: dict) -> dict:
    job = copy.deepcopy(job)
    job["spec"] = {key: value for key, value in job["spec"].items() if value is not None}
    return job


@pytest.mark.parametrize(("manifest", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_it_reports_the_causes_upstream_reports(manifest, expected):
    assert causes_of(without_nones(manifest)) == expected


def test_the_status_message_names_the_rule():
    job = with_rules({"action": "Ignore"})
    assert invalid_status_message(resource(job), "pi", causes_of(job)) == (
        'Job.batch "pi" is invalid: spec.podFailurePolicy.rules[0]: '
        "Invalid value: specifying one of OnExitCodes and OnPodConditions is required"
    )
