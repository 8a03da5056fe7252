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
        run(&[
            "label",
            &self.s(input),
            "-o",
            &self.s(output),
            "--key",
            &self.s("keys/signing.key"),
            "--producer",
            PRODUCER,
        ])
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
