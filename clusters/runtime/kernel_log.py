"""The kernel's own record of the containers its OOM killer killed, read from /dev/kmsg.

Docker (through containerd) learns of an OOM kill from an eventfd on the container's memory
cgroup, and drops it when the cgroup is gone by the time it looks: a process killed at once ends
its container, and on a loaded machine the engine then says exit 137, `OOMKilled: false` (a
known containerd race: containerd/containerd#8180 and #8893). The kernel logs every such kill
with the victim's memory cgroup, whose path holds the container's id; the upstream kubelet reads
the same log (cadvisor's oomparser). It can only be read on the engine's own host, as root:
elsewhere nothing is found and the engine's word stands.
"""

from __future__ import annotations

import collections
import os
import re
import threading

KMSG_PATH = "/dev/kmsg"
RECORD_BYTES = 8192  # one read of /dev/kmsg returns one record, at most this long
KEPT_KILLS = 4096  # the newest OOM kills remembered (a kill is looked up seconds after it)

# "oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/docker/<id>,task_memcg=/docker/<id>,task=tail,pid=1,uid=0"
_OOM_KILL = re.compile(r"oom-kill:.*\btask_memcg=([^,\s]+)")


def oom_killed_cgroups(records: list[bytes]) -> list[str]:
    """The memory cgroups of the processes the OOM killer killed, from raw /dev/kmsg records
    ("priority,sequence,microseconds,flags;message", then indented key=value lines)."""
    cgroups = []
    for record in records:
        _, _, text = record.decode("utf-8", errors="replace").partition(";")
        found = _OOM_KILL.search(text.split("\n", 1)[0])
        if found:
            cgroups.append(found.group(1))
    return cgroups


class KernelOomLog:
    """The OOM-killed cgroups this process has read from the kernel's log: the log is read once
    in full, then only its new records at each look. A forked worker opens the log anew: the read
    position belongs to the open file, which a fork would share."""

    def __init__(self, path: str = KMSG_PATH):
        self.path = path
        self._fd: int | None = None
        self._pid = os.getpid()
        self._unreadable = False
        self._cgroups: collections.deque[str] = collections.deque(maxlen=KEPT_KILLS)
        self._lock = threading.Lock()

    def killed(self, container_id: str) -> bool:
        """Whether the kernel killed a process of the container with this (full) id for memory."""
        with self._lock:
            self._cgroups.extend(oom_killed_cgroups(self._new_records()))
            return any(container_id in cgroup for cgroup in self._cgroups)

    def _new_records(self) -> list[bytes]:
        if self._pid != os.getpid():
            self._fd, self._pid = None, os.getpid()
            self._cgroups.clear()  # read again from the start
        if self._fd is None and not self._open():
            return []
        records = []
        while True:
            try:
                records.append(os.read(self._fd, RECORD_BYTES))
            except BlockingIOError:
                return records  # read to the end
            except BrokenPipeError:
                continue  # records overwritten before they were read: go on from the oldest left

    def _open(self) -> bool:
        if self._unreadable:
            return False
        try:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            self._unreadable = True  # no such device, or not root: only the engine's word is known
            return False
        return True


kernel_oom_log = KernelOomLog()
