"""The plain SSH script bench/e2e.ts holds ciu against: what an operator writes with netmiko instead.

Reads one JSON object on stdin (controllers: [{host, port}], username, password, image: {host, user,
password, file}, target: {version, build}, max_downloads) and upgrades every controller at once, one
thread each, with at most max_downloads copies (and their checks) running together: inspect, copy
with the image-server password answered, check the partition, set the boot partition, reload, wait
for the SSH banner, confirm the version. Prints one JSON object: each controller's end state.
"""
import json
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from netmiko import ConnectHandler

VERSION = re.compile(r"Version (\S+).*?\(build (\d+)\)", re.S)
PARTITION = re.compile(
    r"Partition\s*:\s*0:(\d)[^\n]*?(\*\*Running\*\*|\*\*Default boot\*\*)?\n"
    r"Software Version\s*:\s*ArubaOS (\S+)[^\n]*\nBuild number\s*:\s*(\d+)"
)


def connect(args, controller):
    return ConnectHandler(
        device_type="aruba_os",
        host=controller["host"],
        port=controller["port"],
        username=args["username"],
        password=args["password"],
        secret=args["password"],
    )


def running(conn):
    match = VERSION.search(conn.send_command("show version"))
    return match.group(1), int(match.group(2))


def partitions(conn):
    return {
        int(n): {"mark": mark or "", "version": version, "build": int(build)}
        for n, mark, version, build in PARTITION.findall(conn.send_command("show image version"))
    }


def banner(controller):
    try:
        with socket.create_connection((controller["host"], controller["port"]), timeout=1) as s:
            s.settimeout(1)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_banner(controller, up, deadline):
    while banner(controller) != up:
        if time.monotonic() > deadline:
            raise TimeoutError("did not come back after reload")
        time.sleep(0.25)


def upgrade(args, controller, slots):
    target = (args["target"]["version"], args["target"]["build"])
    image = args["image"]
    conn = connect(args, controller)
    try:
        if running(conn) == target:
            return "up-to-date"
        booted = [n for n, p in partitions(conn).items() if "Running" in p["mark"]]
        partition = 1 - (booted[0] if booted else 0)
        with slots:
            line = f"copy ftp: {image['host']} {image['user']} {image['file']} system: partition {partition}"
            conn.send_command(line, expect_string=r"Password:")
            reply = conn.send_command(image["password"], expect_string=r"[>#]\s*$", read_timeout=600)
            if "successfully" not in reply:
                return f"failed: copy: {reply.strip().splitlines()[-1:]}"
            copied = partitions(conn).get(partition)
            if not copied or (copied["version"], copied["build"]) != target:
                return f"failed: check: partition {partition} holds {copied}"
        conn.send_command(f"boot system partition {partition}")
        conn.send_command("reload", expect_string=r"\(y/n\)")
        try:
            conn.write_channel("y\n")
            time.sleep(0.1)
        finally:
            try:
                conn.disconnect()
            except Exception:
                pass
    except Exception:
        conn.disconnect()
        raise
    wait_for_banner(controller, False, time.monotonic() + 60)
    wait_for_banner(controller, True, time.monotonic() + 600)
    conn = connect(args, controller)
    try:
        return "upgraded" if running(conn) == target else "failed: old version after reload"
    finally:
        conn.disconnect()


def main() -> None:
    args = json.load(sys.stdin)
    slots = threading.Semaphore(args["max_downloads"])
    controllers = args["controllers"]
    with ThreadPoolExecutor(max_workers=len(controllers)) as pool:
        futures = {c["host"]: pool.submit(upgrade, args, c, slots) for c in controllers}
    states = {}
    for host, future in futures.items():
        try:
            states[host] = future.result()
        except Exception as err:
            states[host] = f"failed: {type(err).__name__}: {err}"
    print(json.dumps(states))


if __name__ == "__main__":
    main()
