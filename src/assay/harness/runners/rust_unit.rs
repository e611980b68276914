//! assay's Rust test runner, a module of the program the harness builds from the solution
//! and the test file (`main.rs` includes both and calls `run` with the table of tests).
//!
//! Each test runs in its own thread under `catch_unwind`: a panic (a failed assert!,
//! assert_eq!, panic!) is caught with its message and place, and a test that outlives its
//! time limit is reported and the process exits. What cannot be caught (an abort, a stack
//! overflow, `process::exit`) ends the process: the harness then restarts it for the tests
//! not yet run, named on the command line.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::os::unix::io::FromRawFd;
use std::panic;
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const MESSAGE_LIMIT: usize = 2000;
// The main thread's usual stack: deep recursion that works in a program works in a test.
const TEST_STACK_BYTES: usize = 8 << 20;

/// What a test must do to pass: return (and not panic), or panic (`#[should_panic]`),
/// with a message containing the expected text when one is given.
pub enum Expect {
    Return,
    Panic(Option<&'static str>),
}

pub struct Test {
    pub name: &'static str,
    pub expect: Expect,
    pub run: fn() -> Result<(), String>,
}

/// A test returns `()` or a `Result` whose `Err` fails it, as under `cargo test`.
pub trait TestReturn {
    fn into_result(self) -> Result<(), String>;
}

impl TestReturn for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Debug> TestReturn for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|error| format!("the test returned Err({:?})", error))
    }
}

struct Panic {
    message: String,
    file: String,
    place: String,
}

thread_local! {
    // The last panic of this thread, as the panic hook saw it (message and place).
    static LAST_PANIC: RefCell<Option<Panic>> = RefCell::new(None);
}

// The first panic of the running test in any thread: when a thread the test started panics,
// the test itself usually fails on a `join().unwrap()` that does not say why.
static FIRST_PANIC: Mutex<Option<String>> = Mutex::new(None);

extern "C" {
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}

struct Report(Option<File>);

impl Report {
    /// Takes the report fd before any test runs and hides it from programs they start.
    fn open() -> Report {
        let fd = std::env::var("ASSAY_REPORT_FD")
            .ok()
            .and_then(|v| v.parse::<i32>().ok());
        // (unsafe from edition 2024 on; no other thread runs yet)
        #[allow(unused_unsafe)]
        unsafe {
            std::env::remove_var("ASSAY_REPORT_FD")
        };
        Report(fd.map(|fd| unsafe {
            fcntl(fd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
            File::from_raw_fd(fd)
        }))
    }

    fn emit(&mut self, line: String) {
        if let Some(file) = self.0.as_mut() {
            let _ = file.write_all((line + "\n").as_bytes());
        }
    }

    fn result(&mut self, name: &str, status: &str, message: &str, seconds: f64) {
        self.emit(format!(
            "{{\"result\": {}, \"status\": \"{}\", \"message\": {}, \"time\": {:.6}}}",
            json_string(name),
            status,
            json_string(&short(message)),
            seconds
        ));
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn short(text: &str) -> String {
    if text.len() <= MESSAGE_LIMIT {
        return text.to_string();
    }
    let mut end = MESSAGE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

// Takes the parts of the hook's argument, whose type was renamed (PanicInfo, then
// PanicHookInfo in Rust 1.81), so that older toolchains build it too.
fn record_panic(payload: &(dyn std::any::Any + Send), location: Option<&panic::Location>) {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    };
    let (file, place) = match location {
        Some(at) => {
            let file = at.file().rsplit('/').next().unwrap_or("").to_string();
            let place = format!("{}:{}:{}", file, at.line(), at.column());
            (file, place)
        }
        None => (String::new(), String::from("an unknown place")),
    };
    if let Ok(mut first) = FIRST_PANIC.lock() {
        first.get_or_insert_with(|| format!("{}: {}", place, message));
    }
    LAST_PANIC.with(|last| {
        *last.borrow_mut() = Some(Panic {
            message,
            file,
            place,
        })
    });
}

/// Runs the tests named on the command line (all when none) and reports each outcome.
pub fn run(tests: &[Test]) {
    let mut report = Report::open();
    if tests.is_empty() {
        report.emit("{\"fatal\": \"no tests found: the test file has no #[test] fn\"}".into());
        std::process::exit(0);
    }
    let names: Vec<String> = tests.iter().map(|t| json_string(t.name)).collect();
    report.emit(format!("{{\"collect\": [{}]}}", names.join(", ")));
    let only: Vec<String> = std::env::args().skip(1).collect();
    let seconds = std::env::var("ASSAY_TEST_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(5.0);
    let timeout = Duration::from_secs_f64(seconds);
    panic::set_hook(Box::new(|info| {
        record_panic(info.payload(), info.location())
    }));
    for test in tests {
        if only.is_empty() || only.iter().any(|name| name == test.name) {
            run_one(&mut report, test, timeout);
        }
    }
    report.emit("{\"done\": true}".into());
    std::process::exit(0);
}

fn run_one(report: &mut Report, test: &Test, timeout: Duration) {
    report.emit(format!("{{\"start\": {}}}", json_string(test.name)));
    let began = Instant::now();
    if let Ok(mut first) = FIRST_PANIC.lock() {
        *first = None;
    }
    let (sender, receiver) = mpsc::channel();
    let body = test.run;
    let spawned = thread::Builder::new()
        .name(test.name.to_string())
        .stack_size(TEST_STACK_BYTES)
        .spawn(move || {
            let returned = panic::catch_unwind(body).ok();
            let panicked = LAST_PANIC.with(|last| last.borrow_mut().take());
            let _ = sender.send((returned, panicked));
        });
    let handle = match spawned {
        Ok(handle) => handle,
        Err(error) => {
            let message = format!("could not start the test's thread: {}", error);
            report.result(test.name, "ERROR", &message, 0.0);
            return;
        }
    };
    let (status, message) = match receiver.recv_timeout(timeout) {
        Ok((returned, panicked)) => {
            let _ = handle.join();
            judge(&test.expect, returned, panicked)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // A thread cannot be stopped from outside: report, and let the harness start
            // a fresh process for the tests after this one.
            let message = format!("test exceeded its {} s time limit", seconds_text(timeout));
            report.result(test.name, "TIMEOUT", &message, timeout.as_secs_f64());
            std::process::exit(3);
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => (
            "ERROR",
            "the test's thread ended without an outcome".to_string(),
        ),
    };
    report.result(test.name, status, &message, began.elapsed().as_secs_f64());
}

fn seconds_text(timeout: Duration) -> String {
    let text = format!("{:.3}", timeout.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The outcome of a test from what it did: `returned` is None when it panicked.
fn judge(
    expect: &Expect,
    returned: Option<Result<(), String>>,
    panicked: Option<Panic>,
) -> (&'static str, String) {
    let first = FIRST_PANIC.lock().ok().and_then(|first| first.clone());
    let panic_text = |p: &Panic| {
        let text = format!("{}: {}", p.place, p.message);
        match &first {
            Some(earlier) if *earlier != text => format!("{}\n(first panic: {})", text, earlier),
            _ => text,
        }
    };
    match (expect, returned) {
        (Expect::Return, Some(Ok(()))) => ("PASS", String::new()),
        (Expect::Return, Some(Err(message))) => ("FAIL", message),
        (Expect::Return, None) => match panicked {
            // An assert (or panic!) of the test itself failed; a panic anywhere else (the
            // solution, the standard library) is the code crashing.
            Some(p) if p.file == "tests.rs" => ("FAIL", panic_text(&p)),
            Some(p) => ("ERROR", format!("panicked at {}", panic_text(&p))),
            None => ("ERROR", "the test panicked".to_string()),
        },
        (Expect::Panic(_), Some(_)) => (
            "FAIL",
            "the test did not panic, and it should have (#[should_panic])".to_string(),
        ),
        (Expect::Panic(expected), None) => {
            let message = panicked
                .as_ref()
                .map(|p| p.message.clone())
                .unwrap_or_default();
            match expected {
                Some(text) if !message.contains(text) => (
                    "FAIL",
                    format!(
                        "the test panicked with {:?}, not with the expected {:?}{}",
                        message,
                        text,
                        panicked
                            .as_ref()
                            .map(|p| format!(" (at {})", p.place))
                            .unwrap_or_default()
                    ),
                ),
                _ => ("PASS", String::new()),
            }
        }
    }
}
