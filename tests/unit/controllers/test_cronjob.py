from datetime import UTC, datetime, timedelta

from clusters.controllers import cronjob
from clusters.controllers.actions import Create, Delete, Event, Patch, ref
from clusters.controllers.state import ClusterState
from tests.unit.controllers import world
from tests.unit.controllers.world import stamp

CREATED = datetime(2026, 3, 2, 8, 59, 30, tzinfo=UTC)


def minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def make_cron_job(schedule: str = "*/5 * * * *", **spec) -> dict:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "hello",
            "namespace": "default",
            "uid": "uid-hello",
            "resourceVersion": "1",
            "generation": 1,
            "creationTimestamp": stamp(CREATED),
        },
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": {"app": "hello"}},
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "metadata": {},
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [{"name": "hello", "image": "busybox:1.36", "command": ["date"]}],
                        },
                    },
                },
            },
        },
    }
    body["spec"].update(spec)
    return body


class World(world.World):
    """The shared world; the test finishes Jobs as their controller would."""

    def jobs(self) -> list[dict]:
        return self.all("Job")

    def cron_job(self) -> dict:
        return self.get("CronJob", "hello")

    def settle(self, limit: int = 20) -> list:
        done = []
        for _ in range(limit):
            actions = cronjob.plan(self.state(), now=self.now)
            if not actions:
                return done
            done += actions
            self.apply(actions)
        raise AssertionError(f"no convergence: still planning {actions}")

    def start(self, job: dict) -> None:
        job["status"] = {"startTime": stamp(self.now), "active": 1, "ready": 1}

    def finish(self, job: dict, outcome: str = "Complete") -> None:
        job["status"] = {
            "startTime": job.get("status", {}).get("startTime", stamp(self.now)),
            "conditions": [{"type": outcome, "status": "True", "lastTransitionTime": stamp(self.now)}],
        }
        if outcome == "Complete":
            job["status"]["completionTime"] = stamp(self.now)


# --- creating Jobs ---------------------------------------------------------------------------


def test_at_a_schedule_time_it_creates_the_job_named_for_it():
    now = datetime(2026, 3, 2, 9, 5, 0, 200_000, tzinfo=UTC)
    scheduled = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    cron = make_cron_job()
    cron["status"] = {"lastScheduleTime": "2026-03-02T09:00:00Z"}
    assert cronjob.plan(ClusterState.of([cron]), now=scheduled - timedelta(seconds=1)) == []
    actions = cronjob.plan(ClusterState.of([cron]), now=now)
    name = f"hello-{minutes(scheduled)}"
    assert actions == [
        Create(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": name,
                    "namespace": "default",
                    "labels": {"app": "hello"},
                    "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-03-02T09:05:00Z"},
                    "ownerReferences": [
                        {
                            "apiVersion": "batch/v1",
                            "kind": "CronJob",
                            "name": "hello",
                            "uid": "uid-hello",
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": cron["spec"]["jobTemplate"]["spec"],
            }
        ),
        Event(ref(cron), "SuccessfulCreate", f"Created job {name}", source="cronjob-controller"),
        Patch(
            "batch/v1",
            "CronJob",
            "default",
            "hello",
            {"status": {"lastScheduleTime": "2026-03-02T09:05:00Z"}},
            subresource="status",
            resource_version="1",
        ),
    ]


def test_the_new_job_joins_the_active_list_and_then_there_is_nothing_to_do():
    world = World(make_cron_job(), now=datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC))
    world.settle()
    [job] = world.jobs()
    assert world.cron_job()["status"]["active"] == [
        {
            "kind": "Job",
            "namespace": "default",
            "name": job["metadata"]["name"],
            "uid": job["metadata"]["uid"],
            "apiVersion": "batch/v1",
            "resourceVersion": job["metadata"]["resourceVersion"],
        }
    ]
    assert cronjob.plan(world.state(), now=world.now) == []
    assert cronjob.next_wakeup(world.state(), now=world.now) == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def test_it_creates_one_job_per_schedule_and_trims_the_history():
    world = World(make_cron_job("* * * * *"), now=CREATED)
    assert cronjob.next_wakeup(world.state(), now=world.now) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for _ in range(6):
        world.now = cronjob.next_wakeup(world.state(), now=world.now)
        world.settle()
        newest = world.jobs()[-1]
        world.start(newest)
        world.now += timedelta(seconds=10)
        world.finish(newest)
        world.settle()
    names = [j["metadata"]["name"] for j in world.jobs()]
    last = minutes(datetime(2026, 3, 2, 9, 5, tzinfo=UTC))
    assert names == [f"hello-{last - 2}", f"hello-{last - 1}", f"hello-{last}"]
    status = world.cron_job()["status"]
    assert "active" not in status
    assert status["lastScheduleTime"] == "2026-03-02T09:05:00Z"
    assert status["lastSuccessfulTime"] == "2026-03-02T09:05:10Z"
    assert [e.reason for e in world.events].count("SuccessfulCreate") == 6
    assert [e.message for e in world.events if e.reason == "SuccessfulDelete"] == [
        f"Deleted job hello-{last - 5}",
        f"Deleted job hello-{last - 4}",
        f"Deleted job hello-{last - 3}",
    ]
    assert f"Saw completed job: hello-{last}, status: Complete" in [e.message for e in world.events]


def test_failed_jobs_have_their_own_history_limit():
    world = World(make_cron_job("* * * * *"), now=CREATED)
    for outcome in ("Failed", "Failed", "Complete"):
        world.now = cronjob.next_wakeup(world.state(), now=world.now)
        world.settle()
        world.finish(world.jobs()[-1], outcome)
        world.settle()
    outcomes = [j["status"]["conditions"][0]["type"] for j in world.jobs()]
    assert outcomes == ["Failed", "Complete"]


def test_forbid_holds_the_next_run_back_while_a_job_is_active():
    world = World(make_cron_job(concurrencyPolicy="Forbid"), now=datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC))
    world.settle()
    [running] = world.jobs()
    world.start(running)
    world.now = datetime(2026, 3, 2, 9, 10, 1, tzinfo=UTC)
    assert cronjob.plan(world.state(), now=world.now) == []
    [notice] = cronjob.notices(world.state(), now=world.now)
    assert (notice.reason, notice.message) == (
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    )
    # Upstream starts the held-back run as soon as the active one finishes, if it is still the latest.
    world.now = datetime(2026, 3, 2, 9, 12, tzinfo=UTC)
    world.finish(running)
    world.settle()
    assert [j["metadata"]["name"] for j in world.jobs()][
        -1
    ] == f"hello-{minutes(datetime(2026, 3, 2, 9, 10, tzinfo=UTC))}"
    assert world.cron_job()["status"]["lastScheduleTime"] == "2026-03-02T09:10:00Z"


def test_replace_deletes_the_active_job_and_starts_the_new_one():
    world = World(make_cron_job(concurrencyPolicy="Replace"), now=datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC))
    world.settle()
    [old] = world.jobs()
    world.start(old)
    world.now = datetime(2026, 3, 2, 9, 10, 1, tzinfo=UTC)
    actions = world.settle()
    assert Delete("batch/v1", "Job", "default", old["metadata"]["name"], propagation="Background") in actions
    [new] = world.jobs()
    assert new["metadata"]["name"] == f"hello-{minutes(datetime(2026, 3, 2, 9, 10, tzinfo=UTC))}"
    assert [r["uid"] for r in world.cron_job()["status"]["active"]] == [new["metadata"]["uid"]]
    assert [e.message for e in world.events if e.reason == "SuccessfulDelete"] == [
        f"Deleted job {old['metadata']['name']}"
    ]


def test_allow_runs_jobs_side_by_side():
    world = World(make_cron_job(), now=datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC))
    world.settle()
    world.start(world.jobs()[0])
    world.now = datetime(2026, 3, 2, 9, 10, 1, tzinfo=UTC)
    world.settle()
    assert len(world.jobs()) == 2
    assert len(world.cron_job()["status"]["active"]) == 2


def test_after_missed_schedules_only_the_most_recent_one_starts():
    cron = make_cron_job()
    now = datetime(2026, 3, 2, 10, 2, tzinfo=UTC)  # 09:00 … 10:00 all missed
    [create] = [a for a in cronjob.plan(ClusterState.of([cron]), now=now) if isinstance(a, Create)]
    assert create.body["metadata"]["name"] == f"hello-{minutes(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))}"


def test_a_schedule_past_its_starting_deadline_is_skipped():
    cron = make_cron_job(startingDeadlineSeconds=60)
    state = ClusterState.of([cron])
    assert cronjob.plan(state, now=datetime(2026, 3, 2, 9, 6, 1, tzinfo=UTC)) == []
    [notice] = cronjob.notices(state, now=datetime(2026, 3, 2, 9, 6, 1, tzinfo=UTC))
    assert (notice.type, notice.reason, notice.message) == (
        "Warning",
        "MissSchedule",
        "Missed scheduled time to start a job: Mon, 02 Mar 2026 09:05:00 +0000",
    )
    # Within the deadline it starts; at exactly the deadline upstream already counts it as too late.
    assert len(cronjob.plan(state, now=datetime(2026, 3, 2, 9, 5, 59, tzinfo=UTC))) == 3
    assert cronjob.plan(state, now=datetime(2026, 3, 2, 9, 6, tzinfo=UTC)) == []


def test_a_suspended_cron_job_starts_nothing_but_keeps_its_status_true():
    cron = make_cron_job(suspend=True)
    finished = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "hello-29000000",
            "namespace": "default",
            "uid": "uid-job",
            "resourceVersion": "5",
            "ownerReferences": [{"kind": "CronJob", "name": "hello", "uid": "uid-hello", "controller": True}],
        },
        "status": {
            "completionTime": "2026-03-02T09:00:30Z",
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    cron["status"] = {"active": [{"kind": "Job", "name": "hello-29000000", "uid": "uid-job"}]}
    actions = cronjob.plan(ClusterState.of([cron, finished]), now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert [a.reason for a in actions if isinstance(a, Event)] == ["SawCompletedJob"]
    [write] = [a for a in actions if isinstance(a, Patch)]
    assert write.patch == {"status": {"active": None}}
    assert not [a for a in actions if isinstance(a, Create)]
    assert cronjob.next_wakeup(ClusterState.of([cron, finished]), now=CREATED) is None


def test_an_active_job_that_vanished_is_dropped_from_the_list():
    cron = make_cron_job()
    cron["status"] = {
        "lastScheduleTime": "2026-03-02T09:05:00Z",
        "active": [{"kind": "Job", "namespace": "default", "name": "hello-29547725", "uid": "uid-gone"}],
    }
    actions = cronjob.plan(ClusterState.of([cron]), now=datetime(2026, 3, 2, 9, 6, tzinfo=UTC))
    assert actions == [
        Event(ref(cron), "MissingJob", "Active job went missing: hello-29547725", source="cronjob-controller"),
        Patch("batch/v1", "CronJob", "default", "hello", {"status": {"active": None}}, "status", "1"),
    ]


def test_a_job_created_by_hand_from_the_cron_job_is_not_adopted():
    cron = make_cron_job()
    cron["status"] = {"lastScheduleTime": "2026-03-02T09:05:00Z"}
    manual = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "manual-run",
            "namespace": "default",
            "uid": "uid-manual",
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [{"kind": "CronJob", "name": "hello", "uid": "uid-hello", "controller": True}],
        },
    }
    state = ClusterState.of([cron, manual])
    now = datetime(2026, 3, 2, 9, 6, tzinfo=UTC)
    assert cronjob.plan(state, now=now) == []
    assert [n.reason for n in cronjob.notices(state, now=now)] == ["UnexpectedJob"]


def test_the_scheduled_timestamp_is_written_in_the_cron_jobs_time_zone():
    cron = make_cron_job("0 9 * * *", timeZone="Asia/Seoul")
    [create] = [
        a
        for a in cronjob.plan(ClusterState.of([cron]), now=datetime(2026, 3, 3, 0, 0, 1, tzinfo=UTC))
        if isinstance(a, Create)
    ]
    assert create.body["metadata"]["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-03-03T09:00:00+09:00"
    }
    assert create.body["metadata"]["name"] == f"hello-{minutes(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))}"


def test_an_invalid_schedule_or_time_zone_is_only_noticed():
    bad_schedule = make_cron_job("61 * * * *")
    bad_zone = make_cron_job(timeZone="Mars/Olympus")
    bad_zone["metadata"].update(name="other", uid="uid-other")
    state = ClusterState.of([bad_schedule, bad_zone])
    now = datetime(2026, 3, 2, 9, 6, tzinfo=UTC)
    assert cronjob.plan(state, now=now) == []
    assert cronjob.next_wakeup(state, now=now) is None
    assert [(n.involved["name"], n.reason) for n in cronjob.notices(state, now=now)] == [
        ("hello", "UnparseableSchedule"),
        ("other", "UnknownTimeZone"),
    ]


# --- why, in words ---------------------------------------------------------------------------


def test_a_due_run_says_when_it_was_due_and_which_job_it_creates():
    cron = make_cron_job()
    cron["status"] = {"lastScheduleTime": "2026-03-02T09:00:00Z"}
    scheduled = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    create, _, status = cronjob.plan(ClusterState.of([cron]), now=scheduled + timedelta(seconds=1))
    assert create.why == f"CronJob hello is due at 09:05: creating Job hello-{minutes(scheduled)}"
    assert status.why == "CronJob hello has 0 active Jobs, last scheduled at 09:05: status updated"
    seoul = make_cron_job("0 18 * * *", timeZone="Asia/Seoul")
    create = cronjob.plan(ClusterState.of([seoul]), now=datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC))[0]
    assert create.why.startswith("CronJob hello is due at 18:00 (Asia/Seoul): creating Job hello-")


def test_replacing_and_trimming_the_history_say_why_a_job_goes():
    world = World(make_cron_job(concurrencyPolicy="Replace"), now=datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC))
    world.settle()
    [old] = world.jobs()
    world.start(old)
    world.now = datetime(2026, 3, 2, 9, 10, 1, tzinfo=UTC)
    [replaced] = [a for a in world.settle() if isinstance(a, Delete)]
    assert replaced.why == (
        "CronJob hello is due at 09:10 and its concurrencyPolicy is Replace: "
        f"deleting its running Job {old['metadata']['name']}"
    )

    world = World(make_cron_job("* * * * *", failedJobsHistoryLimit=0), now=CREATED)
    world.now = cronjob.next_wakeup(world.state(), now=world.now)
    world.settle()
    [failed] = world.jobs()
    world.finish(failed, "Failed")
    [trimmed] = [a for a in world.settle() if isinstance(a, Delete)]
    assert trimmed.why == (
        "CronJob hello keeps 0 failed Jobs (failedJobsHistoryLimit), has 1: "
        f"deleting the oldest, {failed['metadata']['name']}"
    )
