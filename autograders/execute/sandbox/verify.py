"""What the grader itself can see of a running kernel's isolation, read from /proc (never from the kernel)."""
from __future__ import annotations

import os

NAMESPACES = ("mnt", "pid", "net", "ipc", "uts")


def inspect(pid: int) -> dict:
    "Uid, capabilities, no_new_privs and which namespaces differ from the grader's, for process `pid`."
    out: dict = {"pid_on_host": pid}
    try:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
    except OSError as e:
        return {"error": f"cannot read /proc/{pid}/status ({e.strerror})"}
    out["uid"] = int(status.get("Uid", "-1").split()[0])
    caps = {k: int(status.get(k, "0").strip(), 16) for k in ("CapEff", "CapPrm", "CapBnd")}
    out["capabilities"] = "none" if not any(caps.values()) else \
        {k: hex(v) for k, v in caps.items()}
    out["no_new_privs"] = status.get("NoNewPrivs", "0").strip() == "1"
    separate = []
    for ns in NAMESPACES:
        try:
            if os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"):
                separate.append(ns)
        except OSError:
            continue
    out["separate_namespaces"] = separate
    return out
