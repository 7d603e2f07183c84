"""The demo app's worker: no $PORT and no inbound traffic; it logs a heartbeat a minute."""
import os
import signal
import sys
import time

DYNO = os.environ.get("DYNO", "unknown")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean exit within the grace period
print(f"{DYNO} working", flush=True)
while True:
    time.sleep(60)
    print(f"{DYNO} still working", flush=True)
