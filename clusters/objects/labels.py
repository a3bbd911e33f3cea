"""Well-known labels the API server writes itself: defaulting sets them, validation insists on them."""

from __future__ import annotations

# A Job's generated selector (batch/v1 JobControllerUidLabel, JobNameLabel and their legacy forms):
# its pod template carries all four, its selector matches the controller uid.
JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
