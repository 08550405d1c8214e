# CPython's threading on one kernel thread: Thread, Lock, RLock, Condition,
# Event, Semaphore, Barrier, queue.Queue, ThreadPoolExecutor and time.sleep,
# with the GIL handed over between them. Every thread checks that it runs on
# the process's one kernel thread (native id == pid).
import concurrent.futures
import os
import queue
import sys
import threading
import time

def on_main_kernel_thread(where):
    if threading.get_native_id() != os.getpid():
        sys.stderr.write(f"CHECK FAILED: {where} runs on kernel thread "
                         f"{threading.get_native_id()}, not the main kernel thread\n")
        sys.exit(1)

def kernel_threads():
    with open("/proc/self/status") as f:
        return int([l for l in f if l.startswith("Threads:")][0].split()[1])

def check(cond, what):
    if not cond:
        sys.stderr.write(f"CHECK FAILED: {what}\n")
        sys.exit(1)

on_main_kernel_thread("main")
results = {}

q = queue.Queue(maxsize=8)
got = []
def producer():
    on_main_kernel_thread("producer")
    for i in range(2000):
        q.put(i)
    q.put(None)
def consumer():
    on_main_kernel_thread("consumer")
    while (x := q.get()) is not None:
        got.append(x)
ts = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in ts: t.start()
check(kernel_threads() == 1, "Threads: in /proc/self/status is not 1 with threads alive")
for t in ts: t.join()
check(got == list(range(2000)), "queue lost or reordered items")

lock, rlock, counter = threading.Lock(), threading.RLock(), [0]
def work(n):
    on_main_kernel_thread("pool worker")
    for _ in range(n):
        with lock:
            with rlock:
                with rlock:
                    counter[0] += 1
    time.sleep(0.005)
    return n
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
    check(sum(ex.map(work, [500] * 16)) == 8000, "executor results")
check(counter[0] == 8000, f"counter {counter[0]}")

cond, ready = threading.Condition(), []
def waiter():
    on_main_kernel_thread("condition waiter")
    with cond:
        cond.wait_for(lambda: ready)
ws = [threading.Thread(target=waiter) for _ in range(4)]
for w in ws: w.start()
time.sleep(0.02)
with cond:
    ready.append(1)
    cond.notify_all()
for w in ws: w.join()

ev = threading.Event()
threading.Timer(0.03, ev.set).start()
t0 = time.monotonic()
check(ev.wait(2) and time.monotonic() - t0 >= 0.025, "Event/Timer")

sem, inside, peak = threading.Semaphore(2), [0], [0]
def limited():
    with sem:
        inside[0] += 1
        peak[0] = max(peak[0], inside[0])
        time.sleep(0.005)
        inside[0] -= 1
ls = [threading.Thread(target=limited) for _ in range(6)]
for t in ls: t.start()
for t in ls: t.join()
check(peak[0] <= 2, f"semaphore let {peak[0]} in")

bar = threading.Barrier(5)
bs = [threading.Thread(target=bar.wait) for _ in range(4)]
for t in bs: t.start()
bar.wait()
for t in bs: t.join()

# Sleeping threads overlap: 4 x 100 ms well under 400 ms.
t0 = time.monotonic()
ss = [threading.Thread(target=time.sleep, args=(0.1,)) for _ in range(4)]
for t in ss: t.start()
for t in ss: t.join()
check(time.monotonic() - t0 < 0.35, "sleeps did not overlap")
on_main_kernel_thread("main at the end")
print("python_threading: Thread/Lock/RLock/Condition/Event/Timer/Semaphore/Barrier/Queue/"
      "ThreadPoolExecutor right on one kernel thread")
