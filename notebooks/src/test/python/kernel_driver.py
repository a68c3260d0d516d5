"""Drives the qcow2 kernel over the Jupyter protocol with jupyter_client (Debian's jupyter-client).

Reads a JSON request on stdin: {"kernel": NAME, "steps": [STEP, ...]}, where a STEP is
  {"execute": CODE}                           run a cell; optional "interrupt_after": seconds after
                                              the kernel reports busy, interrupt it (KernelManager.
                                              interrupt_kernel: an interrupt_request or SIGINT, as
                                              the kernelspec's interrupt_mode says)
  {"complete": CODE, "cursor": N}             ask for completions
Prints one JSON object: {"ready": s, "steps": [RESULT, ...]}, RESULT of an execute being
{"status", "result" (text/plain), "data" (mime types), "error" ({"ename","evalue","traceback"}),
"stdout", "seconds", "stopped_in" (seconds from the interrupt to the reply)}, of a complete the
reply's content. Exits 1 with a message when the kernel does not answer in time.
"""
import json
import sys
import time

from jupyter_client.manager import KernelManager

TIMEOUT = 120


def execute(km, kc, step):
    t0 = time.monotonic()
    msg_id = kc.execute(step["execute"])
    result = {"status": None, "result": None, "data": {}, "error": None, "stdout": "", "stopped_in": None}
    interrupted_at = None
    idle = False
    while not idle:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = m["msg_type"], m["content"]
        if kind == "status" and content["execution_state"] == "busy" and "interrupt_after" in step:
            time.sleep(step["interrupt_after"])
            interrupted_at = time.monotonic()
            km.interrupt_kernel()
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "execute_result":
            result["result"] = content["data"].get("text/plain")
            result["data"] = sorted(content["data"].keys())
        elif kind == "display_data":
            result["data"] = sorted(set(result["data"]) | set(content["data"].keys()))
        elif kind == "stream" and content["name"] == "stdout":
            result["stdout"] += content["text"]
        elif kind == "error":
            result["error"] = {k: content[k] for k in ("ename", "evalue", "traceback")}
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    result["status"] = reply["content"]["status"]
    now = time.monotonic()
    result["seconds"] = round(now - t0, 3)
    if interrupted_at is not None:
        result["stopped_in"] = round(now - interrupted_at, 3)
    return result


def complete(kc, step):
    msg_id = kc.complete(step["complete"], step["cursor"])
    while True:
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


def main():
    request = json.load(sys.stdin)
    t0 = time.monotonic()
    km = KernelManager(kernel_name=request["kernel"])
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        out = {"ready": round(time.monotonic() - t0, 3), "steps": []}
        for step in request["steps"]:
            out["steps"].append(execute(km, kc, step) if "execute" in step else complete(kc, step))
        out["alive"] = km.is_alive()
        print(json.dumps(out))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the spec's failure message
        print(f"kernel_driver: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
