"""The kernel's OOM-kill records, as /dev/kmsg gives them (clusters/runtime/kernel_log.py)."""

from __future__ import annotations

from clusters.runtime.kernel_log import KernelOomLog, oom_killed_cgroups

CONTAINER = "c7863e1c5d5e373bea9cef8a2b3da8f6c9c9fd54b32991a46b3ef41fb542c36a"

# Records read from /dev/kmsg on a cgroup v1 host (cgroupfs driver), and as a systemd-driven
# cgroup v2 host words the same kill.
RECORDS = [
    b"4,62801,48966022433,-;tail invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n",
    (
        b"6,62830,48966022991,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset="
        + CONTAINER.encode()
        + b",mems_allowed=0,oom_memcg=/docker/"
        + CONTAINER.encode()
        + b",task_memcg=/docker/"
        + CONTAINER.encode()
        + b",task=tail,pid=19368,uid=0\n"
    ),
    b"3,62831,48966023002,-;Memory cgroup out of memory: Killed process 19368 (tail) total-vm:10000kB\n",
    (
        b"6,70001,50000000000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
        b"oom_memcg=/system.slice/docker-abc.scope,task_memcg=/system.slice/docker-abc.scope,task=dd,pid=7,uid=0\n"
        b" SUBSYSTEM=memory\n"
    ),
    b"6,62880,48966193198,-;docker0: port 8(veth2232f4d) entered disabled state\n",
]


def test_the_victims_memory_cgroups_are_read_from_the_oom_kill_records_only():
    assert oom_killed_cgroups(RECORDS) == [f"/docker/{CONTAINER}", "/system.slice/docker-abc.scope"]


def test_a_log_that_cannot_be_read_knows_of_no_kill():
    log = KernelOomLog(path="/nonexistent/kmsg")

    assert log.killed(CONTAINER) is False
