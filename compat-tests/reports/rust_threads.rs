// A Rust program's threads in a thread dump (SIGQUIT): Rust names demangled,
// and the creation site in the program's own code (start_worker, inlined
// into main), not in Rust's standard library, which is linked into it.
use std::fs;
use std::thread;
use std::time::Duration;

extern "C" {
    fn getpid() -> i32;
    fn gettid() -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

fn check_one_kernel_thread() {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let threads = status.lines().find(|l| l.starts_with("Threads:")).unwrap_or("").to_string();
    let (tid, pid) = unsafe { (gettid(), getpid()) };
    if threads != "Threads:\t1" || tid != pid {
        eprintln!(
            "CHECK FAILED: {} (running on kernel thread {}), but the process (pid {}) must use only one kernel thread",
            threads, tid, pid
        );
        std::process::exit(1);
    }
}

fn start_worker() -> thread::JoinHandle<()> {
    thread::spawn(|| {
        check_one_kernel_thread();
        thread::sleep(Duration::from_millis(300));
    })
}

fn main() {
    let worker = start_worker();
    thread::sleep(Duration::from_millis(50));
    check_one_kernel_thread();
    unsafe {
        kill(getpid(), 3); // SIGQUIT
    }
    worker.join().unwrap();
    check_one_kernel_thread();
    println!("rust_threads: done");
}
