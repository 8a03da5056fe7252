//! Bulk verification (`aigcmark::batch`): input order, and stopping part-way.

mod common;

use std::ops::ControlFlow;
use std::path::PathBuf;

use aigcmark::batch::{self, Order};
use common::{PRODUCER, demo_keys, metadata_only};

/// 40 labeled text files; every 7th one altered after labeling.
fn archive(dir: &std::path::Path) -> (Vec<PathBuf>, aigcmark::VerifyOptions) {
    let (signer, trust) = demo_keys(7, PRODUCER);
    let paths = (0..40)
        .map(|i| {
            let text = format!("Answer number {i}: the weather will be fine tomorrow.");
            let mut out = aigcmark::text::label_str(&text, &signer, &metadata_only()).unwrap();
            if i % 7 == 0 {
                out = out.replace("fine", "awful");
            }
            let p = dir.join(format!("{i:02}.txt"));
            std::fs::write(&p, out).unwrap();
            p
        })
        .collect();
    let mut opts = aigcmark::VerifyOptions::new(trust);
    opts.watermark_key = None;
    (paths, opts)
}

#[test]
fn reports_come_in_input_order_and_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, opts) = archive(dir.path());
    let mut seen = Vec::new();
    let summary = batch::verify_many(&paths, &opts, 2, Order::Input, |r| {
        seen.push((r.path.clone().unwrap(), r.verdict.as_str().to_string()))
    });
    let names: Vec<_> = paths.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(seen.iter().map(|s| s.0.clone()).collect::<Vec<_>>(), names);
    for (i, (_, verdict)) in seen.iter().enumerate() {
        let want = if i % 7 == 0 {
            "altered"
        } else {
            "labeled_intact"
        };
        assert_eq!(verdict, want, "file {i}");
    }
    assert_eq!(summary.files, 40);
    assert_eq!(summary.by_verdict["altered"], 6);
    assert_eq!(summary.exit_class, 2);
}

#[test]
fn a_batch_stops_when_the_caller_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, opts) = archive(dir.path());
    for order in [Order::Input, Order::Completion] {
        let mut given = 0;
        let summary = batch::verify_many_until(&paths, &opts, 2, order, |_| {
            given += 1;
            if given == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(given, 5, "{order:?}");
        assert_eq!(summary.files, 5, "{order:?}");
    }
    // One thread: the same.
    let mut given = 0;
    let summary = batch::verify_many_until(&paths, &opts, 1, Order::Input, |r| {
        given += 1;
        assert!(r.path.as_deref().unwrap().ends_with("00.txt"));
        ControlFlow::Break(())
    });
    assert_eq!((given, summary.files), (1, 1));
}
