//! The `aigcmark` command as a person and a script use it: files, exit codes, JSON, keys.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::PRODUCER;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aigcmark"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        let o = run(&[
            "keygen",
            "--out",
            s.p("keys").to_str().unwrap(),
            "--producer",
            PRODUCER,
        ]);
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::write(s.p("in.txt"), "Generated text.\n\n这是生成的文字。\n").unwrap();
        s
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn s(&self, name: &str) -> String {
        self.p(name).to_str().unwrap().to_string()
    }
    fn label(&self, input: &str, output: &str) -> Output {
        self.label_with(input, output, "keys/signing.key", &[])
    }
    /// `label` with another key file and extra arguments.
    fn label_with(&self, input: &str, output: &str, key: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "label".to_string(),
            self.s(input),
            "-o".into(),
            self.s(output),
            "--key".into(),
            self.s(key),
            "--producer".into(),
            PRODUCER.into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        bin().args(&args).output().unwrap()
    }
}

#[test]
fn keygen_writes_a_private_key_openssl_reads_and_a_trust_store() {
    let s = Setup::new();
    let key = s.p("keys/signing.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let trust: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.p("keys/trust.json")).unwrap()).unwrap();
    assert_eq!(trust["keys"][0]["owner"], PRODUCER);
    // OpenSSL derives the same public key from our PKCS#8 file.
    let out = Command::new("openssl")
        .args([
            "pkey",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-outform",
            "DER",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let raw = &out.stdout[out.stdout.len() - 32..];
    let pk: [u8; 32] = raw.try_into().unwrap();
    assert_eq!(
        trust["keys"][0]["public_key"],
        aigcmark::keys::encode_public_key(&pk)
    );
    // A second keygen into the same folder refuses to overwrite.
    let o = run(&[
        "keygen",
        "--out",
        s.p("keys").to_str().unwrap(),
        "--producer",
        PRODUCER,
    ]);
    assert_eq!(code(&o), 3);
    // The owner is required: a key owned by nobody would make every label fail to verify.
    let o = run(&["keygen", "--out", s.p("other").to_str().unwrap()]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--producer"));
}

#[test]
fn exit_codes_tell_intact_unlabeled_bad_and_error_apart() {
    let s = Setup::new();
    assert_eq!(code(&s.label("in.txt", "out.txt")), 0);
    let trust = s.s("keys/trust.json");
    assert_eq!(
        code(&run(&["verify", &s.s("out.txt"), "--trust", &trust])),
        0
    );
    assert_eq!(
        code(&run(&["verify", &s.s("in.txt"), "--trust", &trust])),
        1
    );
    assert_eq!(
        code(&run(&["verify", &s.s("out.txt")])),
        2,
        "no trust store: untrusted"
    );
    let altered = std::fs::read_to_string(s.p("out.txt"))
        .unwrap()
        .replace("Generated", "Written");
    std::fs::write(s.p("altered.txt"), altered).unwrap();
    assert_eq!(
        code(&run(&["verify", &s.s("altered.txt"), "--trust", &trust])),
        2
    );
    assert_eq!(
        code(&run(&["verify", &s.s("missing.txt"), "--trust", &trust])),
        3
    );
    assert_eq!(code(&run(&["verify", "--no-such-flag", "x"])), 3);
    assert_eq!(code(&run(&["--help"])), 0);
    // The worst file decides.
    assert_eq!(
        code(&run(&[
            "verify",
            &s.s("out.txt"),
            &s.s("in.txt"),
            "--trust",
            &trust
        ])),
        1
    );
    assert_eq!(
        code(&run(&[
            "verify",
            &s.s("out.txt"),
            &s.s("altered.txt"),
            &s.s("in.txt"),
            "--trust",
            &trust
        ])),
        2
    );
}

#[test]
fn label_never_overwrites_unless_told() {
    let s = Setup::new();
    let before = std::fs::read(s.p("in.txt")).unwrap();
    let o = s.label("in.txt", "in.txt");
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the input"));
    assert_eq!(std::fs::read(s.p("in.txt")).unwrap(), before);
    assert_eq!(code(&s.label("in.txt", "out.txt")), 0);
    assert_eq!(
        code(&s.label("in.txt", "out.txt")),
        3,
        "existing output kept"
    );
    let o = run(&[
        "label",
        &s.s("in.txt"),
        "-o",
        &s.s("in.txt"),
        "--key",
        &s.s("keys/signing.key"),
        "--producer",
        PRODUCER,
        "--overwrite",
    ]);
    assert_eq!(code(&o), 0);
    assert_ne!(std::fs::read(s.p("in.txt")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.ends_with(".tmp").then_some(n)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn stdin_to_stdout_and_json_reports() {
    let s = Setup::new();
    let out = common::pipe(
        bin().args([
            "label",
            "-",
            "-o",
            "-",
            "--key",
            &s.s("keys/signing.key"),
            "--producer",
            PRODUCER,
            "--format",
            "text",
        ]),
        b"piped text\n",
    );
    assert!(out.status.success());
    std::fs::write(s.p("piped.txt"), &out.stdout).unwrap();
    let o = run(&[
        "verify",
        &s.s("piped.txt"),
        "--trust",
        &s.s("keys/trust.json"),
        "--json",
    ]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["verdict"], "labeled_intact");
    assert_eq!(v[0]["label"]["ContentProducer"], PRODUCER);
}

#[test]
fn bulk_verify_streams_jsonl_in_input_order_with_a_summary() {
    let s = Setup::new();
    std::fs::create_dir_all(s.p("tree/a/b")).unwrap();
    let mut expected = Vec::new();
    for i in 0..30 {
        let name = format!("tree/{}/f{i:02}.txt", if i % 2 == 0 { "a" } else { "a/b" });
        std::fs::write(s.p(&name), format!("text number {i}\n")).unwrap();
        if i % 3 == 0 {
            let tmp = format!("tree/tmp{i}.txt");
            std::fs::rename(s.p(&name), s.p(&tmp)).unwrap();
            assert_eq!(code(&s.label(&tmp, &name)), 0);
            std::fs::remove_file(s.p(&tmp)).unwrap();
        }
        expected.push(name);
    }
    std::fs::write(s.p("tree/ignored.bin"), [0u8, 1, 2]).unwrap();
    let o = run(&[
        "verify",
        &s.s("tree"),
        "--recursive",
        "--jsonl",
        "--trust",
        &s.s("keys/trust.json"),
        "--jobs",
        "2",
    ]);
    assert_eq!(code(&o), 1);
    let lines: Vec<serde_json::Value> = o
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 30);
    let paths: Vec<String> = lines
        .iter()
        .map(|v| v["path"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "stable (sorted walk) order");
    let intact = lines
        .iter()
        .filter(|v| v["verdict"] == "labeled_intact")
        .count();
    assert_eq!(intact, 10);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("30 files"), "{err}");
    assert!(
        err.contains("labeled_intact 10") && err.contains("unlabeled 20"),
        "{err}"
    );
    // The same list given on stdin.
    let list = paths.join("\n");
    let out = common::pipe(
        bin().args(["verify", "-", "--brief", "--trust", &s.s("keys/trust.json")]),
        list.as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 30);
    // Folders need --recursive.
    assert_eq!(code(&run(&["verify", &s.s("tree")])), 3);
}

#[test]
fn inspect_and_propagate() {
    let s = Setup::new();
    assert_eq!(code(&s.label("in.txt", "out.txt")), 0);
    let o = run(&["inspect", &s.s("out.txt"), "--json"]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["carriers"][0]["label"]["ContentProducer"], PRODUCER);
    let o = run(&[
        "keygen",
        "--out",
        &s.s("platform"),
        "--producer",
        common::PLATFORM,
        "--role",
        "platform",
    ]);
    assert_eq!(code(&o), 0);
    let o = run(&[
        "propagate",
        &s.s("out.txt"),
        "-o",
        &s.s("prop.txt"),
        "--key",
        &s.s("platform/signing.key"),
        "--propagator",
        common::PLATFORM,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    // A trust store with both keys: merge the two files' entries.
    let mut a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.p("keys/trust.json")).unwrap()).unwrap();
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.p("platform/trust.json")).unwrap()).unwrap();
    a["keys"].as_array_mut().unwrap().push(b["keys"][0].clone());
    std::fs::write(s.p("both.json"), a.to_string()).unwrap();
    let o = run(&["verify", &s.s("prop.txt"), "--trust", &s.s("both.json")]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{text}");
    assert!(
        text.contains("platform") && text.contains(common::PLATFORM),
        "{text}"
    );
    // Propagating an unlabeled file is refused.
    let o = run(&[
        "propagate",
        &s.s("in.txt"),
        "-o",
        &s.s("x.txt"),
        "--key",
        &s.s("platform/signing.key"),
        "--propagator",
        common::PLATFORM,
    ]);
    assert_eq!(code(&o), 3);
}

/// Runs `args` with a deadline: a command that would hang (reading a FIFO) fails the test
/// instead of blocking the suite.
fn run_within(args: &[&str], stdin: &[u8], secs: u64) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("aigcmark {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_not_read() {
    let s = Setup::new();
    std::os::unix::fs::symlink("/dev/zero", s.p("zero.png")).unwrap();
    let made = Command::new("mkfifo")
        .arg(s.p("pipe.wav"))
        .status()
        .unwrap();
    assert!(made.success());
    for path in [s.s("zero.png"), s.s("pipe.wav")] {
        let o = run_within(&["verify", &path], b"", 20);
        assert_eq!(code(&o), 3, "{path}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("not a regular file"), "{out}");
    }
    // The same through a list on standard input.
    let list = format!("{}\n{}\n", s.s("pipe.wav"), s.s("zero.png"));
    let o = run_within(&["verify", "-"], list.as_bytes(), 20);
    assert_eq!(code(&o), 3);
    // And as the input of label or inspect.
    let o = run_within(&["inspect", &s.s("pipe.wav")], b"", 20);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a regular file"));
}

#[test]
fn names_and_values_cannot_fake_report_lines() {
    let s = Setup::new();
    assert_eq!(code(&s.label("in.txt", "out.txt")), 0);
    let evil = s.p("a\nb.txt: labeled_intact (forged line)\x1b[2J.txt");
    std::fs::copy(s.p("out.txt"), &evil).unwrap();
    let o = run(&["verify", evil.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        !out.lines().any(|l| l.starts_with("b.txt")),
        "a file name started a line:\n{out}"
    );
    assert!(out.contains("\\n") && out.contains("\\u{1b}"), "{out}");
    assert!(!out.contains('\x1b'));
}

#[test]
fn a_closed_pipe_ends_verify_quietly() {
    let s = Setup::new();
    assert_eq!(code(&s.label("in.txt", "out.txt")), 0);
    let mut args = vec![
        "verify".to_string(),
        "--brief".to_string(),
        "--trust".to_string(),
        s.s("keys/trust.json"),
    ];
    args.extend((0..400).map(|_| s.s("out.txt")));
    let mut child = bin()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.contains("labeled_intact"), "{first}");
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(o.status.code(), Some(101), "{err}");
}

#[test]
fn a_second_platform_must_ask_to_replace_the_first() {
    let s = Setup::new();
    assert_eq!(code(&s.label("in.txt", "out.txt")), 0);
    for (dir, code_) in [
        ("p1", common::PLATFORM),
        ("p2", "001191000000MA00DEMO0X30000"),
    ] {
        let o = run(&[
            "keygen",
            "--out",
            &s.s(dir),
            "--producer",
            code_,
            "--role",
            "platform",
        ]);
        assert_eq!(code(&o), 0);
    }
    let propagate = |input: &str, output: &str, dir: &str, who: &str, extra: &[&str]| {
        let mut args = vec![
            "propagate".to_string(),
            s.s(input),
            "-o".into(),
            s.s(output),
            "--key".into(),
            s.s(&format!("{dir}/signing.key")),
            "--propagator".into(),
            who.into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        bin().args(&args).output().unwrap()
    };
    let o = propagate("out.txt", "p1.txt", "p1", common::PLATFORM, &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = propagate("p1.txt", "p2.txt", "p2", "001191000000MA00DEMO0X30000", &[]);
    assert_eq!(code(&o), 3);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--replace") && err.contains(common::PLATFORM),
        "{err}"
    );
    assert!(!s.p("p2.txt").exists());
    let o = propagate(
        "p1.txt",
        "p2.txt",
        "p2",
        "001191000000MA00DEMO0X30000",
        &["--replace"],
    );
    assert_eq!(code(&o), 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("replaced") && err.contains(common::PLATFORM),
        "{err}"
    );
    // Stores given twice (or as a folder) are merged.
    let o = run(&[
        "verify",
        &s.s("p2.txt"),
        "--trust",
        &s.s("keys/trust.json"),
        "--trust",
        &s.s("p2/trust.json"),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    std::fs::create_dir(s.p("stores")).unwrap();
    std::fs::copy(s.p("keys/trust.json"), s.p("stores/provider.json")).unwrap();
    std::fs::copy(s.p("p2/trust.json"), s.p("stores/platform.json")).unwrap();
    let o = run(&["verify", &s.s("p2.txt"), "--trust", &s.s("stores")]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    // With the provider's store only, the headline stays the provider's and the platform part
    // is named as untrusted.
    let o = run(&["verify", &s.s("p2.txt"), "--trust", &s.s("keys/trust.json")]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{out}");
    assert!(
        out.contains("ReservedCode2") && out.contains("not in the trust store"),
        "{out}"
    );
}

#[test]
fn clear_messages_for_empty_foreign_and_mistyped_input() {
    let s = Setup::new();
    let label = |input: &str| s.label(input, &format!("out-{input}"));
    std::fs::write(s.p("empty.txt"), "").unwrap();
    let o = label("empty.txt");
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty"));
    std::fs::write(s.p("doc.txt"), "%PDF-1.7\n1 0 obj\n<< >>\nendobj\n").unwrap();
    let o = label("doc.txt");
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("PDF"));
    let o = run(&["verify", &s.s("doc.txt")]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stdout).contains("PDF"));
    let o = run(&["verify", &s.s("in.txt"), "--limits", r#"{"max_pixel":5}"#]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("max_pixel"));
    std::fs::write(s.p("bad-trust.json"), "not json").unwrap();
    let o = run(&["verify", &s.s("in.txt"), "--trust", &s.s("bad-trust.json")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 3);
    assert_eq!(err.matches("key error").count(), 1, "{err}");
    // A folder without --recursive: no stray ".: " before the message.
    let o = run(&["verify", &s.s("keys")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--recursive") && !err.contains(".: "), "{err}");
    // A non-key file as the key.
    let o = s.label_with("in.txt", "o.txt", "in.txt", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 3);
    assert!(
        !err.contains("preamble") && err.contains("PRIVATE KEY"),
        "{err}"
    );
    // --size below the minimum is refused, not silently clamped.
    let o = s.label_with("in.txt", "o.txt", "keys/signing.key", &["--size", "0.01"]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("5%"));
}
