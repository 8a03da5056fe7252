//! Verifying many files at once: on all cores, in a stable order, with flat memory.
//!
//! Each worker reads one file, verifies it and drops the bytes before taking the next, so memory
//! stays at about one file per core whatever the archive's size. Reports are handed to the caller
//! as they finish; in [`Order::Input`] they are held back only until every earlier file is done.
//! The caller may stop the batch at any report ([`verify_many_until`]): files not yet started are
//! skipped, and the summary counts what was reported.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::format::Format;
use crate::report::Report;
use crate::verifier::{VerifyOptions, verify_file};

/// In what order reports reach the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Order {
    /// The order of the input list (stable from run to run).
    #[default]
    Input,
    /// As files finish (slightly faster, order varies).
    Completion,
}

/// Counts after a batch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Files verified (each gives one report, an unreadable one too).
    pub files: usize,
    /// Reports per verdict (`labeled_intact`, `altered`, …).
    pub by_verdict: BTreeMap<String, usize>,
    /// Reports per format name.
    pub by_format: BTreeMap<String, usize>,
    /// Wall-clock time of the batch.
    pub seconds: f64,
    /// `files / seconds`.
    pub files_per_second: f64,
    /// The highest exit class seen (0 intact … 3 error).
    pub exit_class: u8,
}

impl Summary {
    fn add(&mut self, r: &Report) {
        self.files += 1;
        *self
            .by_verdict
            .entry(r.verdict.as_str().to_string())
            .or_default() += 1;
        *self.by_format.entry(r.format.clone()).or_default() += 1;
        self.exit_class = self.exit_class.max(r.verdict.exit_class());
    }
}

/// Verifies `paths` on `threads` threads (0 = all cores), calling `each` with every report.
pub fn verify_many(
    paths: &[PathBuf],
    opts: &VerifyOptions,
    threads: usize,
    order: Order,
    mut each: impl FnMut(Report),
) -> Summary {
    verify_many_until(paths, opts, threads, order, |r| {
        each(r);
        ControlFlow::Continue(())
    })
}

/// [`verify_many`], stopping when `each` returns [`ControlFlow::Break`]: no file is started
/// after that, the reports of files already being verified are dropped, and the summary counts
/// the reports `each` was given.
pub fn verify_many_until(
    paths: &[PathBuf],
    opts: &VerifyOptions,
    threads: usize,
    order: Order,
    mut each: impl FnMut(Report) -> ControlFlow<()>,
) -> Summary {
    let start = Instant::now();
    let mut summary = Summary::default();
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(_) => {
            // No threads to be had: verify on this one.
            for p in paths {
                let r = verify_file(p, opts);
                summary.add(&r);
                if each(r).is_break() {
                    break;
                }
            }
            return finish(summary, start.elapsed());
        }
    };
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<(usize, Report)>(256);
    std::thread::scope(|scope| {
        let stop = &stop;
        scope.spawn(move || {
            pool.install(|| {
                paths
                    .par_iter()
                    .enumerate()
                    .for_each_with(tx, |tx, (i, p)| {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        // A closed channel means the caller stopped: the report goes nowhere.
                        let _ = tx.send((i, verify_file(p, opts)));
                    });
            });
        });
        let mut next = 0usize;
        let mut held: HashMap<usize, Report> = HashMap::new();
        'reports: for (i, r) in rx {
            match order {
                Order::Completion => {
                    summary.add(&r);
                    if each(r).is_break() {
                        break 'reports;
                    }
                }
                Order::Input => {
                    held.insert(i, r);
                    while let Some(r) = held.remove(&next) {
                        next += 1;
                        summary.add(&r);
                        if each(r).is_break() {
                            break 'reports;
                        }
                    }
                }
            }
        }
        // Leaving the loop dropped the receiver; the workers skip what they have not started.
        stop.store(true, Ordering::Relaxed);
    });
    finish(summary, start.elapsed())
}

fn finish(mut s: Summary, took: Duration) -> Summary {
    s.seconds = took.as_secs_f64();
    s.files_per_second = if s.seconds > 0.0 {
        s.files as f64 / s.seconds
    } else {
        0.0
    };
    s
}

/// Expands directories into the files below them whose names say a format aigcmark reads
/// (`recursive`), in sorted order; plain file arguments are kept as given.
pub fn collect_paths(args: &[PathBuf], recursive: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for a in args {
        if a.is_dir() {
            if !recursive {
                return Err(std::io::Error::other(format!(
                    "{} is a directory; pass --recursive to verify what is inside",
                    a.display()
                )));
            }
            walk(a, &mut out)?;
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ft = e.file_type()?;
        let p = e.path();
        if ft.is_dir() {
            walk(&p, out)?;
        } else if ft.is_file() && Format::from_path(&p).is_some() {
            out.push(p);
        }
    }
    Ok(())
}
