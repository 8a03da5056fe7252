//! Signing outside this process: a KMS, an HSM or a signing service holds the secret key and
//! aigcmark only hands it the message to sign.
//!
//! A [`SignatureProvider`] signs bytes; [`crate::Signer::external`] pairs one with the public key
//! the caller trusts. The provider is never believed: every signature it returns is checked
//! against that public key before it goes into a seal, so a misconfigured or lying signer (another
//! key, a truncated answer, garbage) fails with a clear error and nothing is written.
//!
//! [`CommandSigner`] is the provider the command line uses (`label --sign-command CMD`): it runs
//! `sh -c CMD`, writes the message to its standard input, and reads the signature from its
//! standard output: raw 64 bytes for Ed25519; for SM2 raw `r ‖ s` or DER (what `openssl pkeyutl
//! -sign` prints). A non-zero exit, a timeout (default 30 s; the child is
//! killed) or an answer of the wrong length is an error that quotes the command's last words on
//! standard error.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The signature algorithm of a key (`aigcmark::SignatureAlgorithm`). In trust stores it is the
/// `alg` field (`"ed25519"`, the default, or `"sm2"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), 64-byte signatures over the message itself.
    #[default]
    Ed25519,
    /// SM2 (GB/T 32918.2) over SM3 with the distinguishing identifier `1234567812345678`; raw
    /// signatures are `r ‖ s`, 64 bytes. Signing and verifying need the cargo feature `sm`.
    Sm2,
}

impl Algorithm {
    /// The length of a raw signature.
    pub fn signature_len(self) -> usize {
        match self {
            Algorithm::Ed25519 | Algorithm::Sm2 => 64,
        }
    }

    /// The name used in trust stores and on the command line (`ed25519`, `sm2`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Sm2 => "sm2",
        }
    }

    /// True when this build signs and verifies with it (SM2 needs the `sm` feature).
    pub fn is_supported(self) -> bool {
        match self {
            Algorithm::Ed25519 => true,
            Algorithm::Sm2 => cfg!(feature = "sm"),
        }
    }

    /// True for Ed25519 (the default, not written in trust stores).
    pub fn is_ed25519(&self) -> bool {
        *self == Algorithm::Ed25519
    }
}

/// Something that signs messages with a key aigcmark never sees.
pub trait SignatureProvider: Send + Sync {
    /// The algorithm the provider signs with.
    fn algorithm(&self) -> Algorithm {
        Algorithm::Ed25519
    }

    /// Signs `message` and returns the signature: for Ed25519 raw `R ‖ S` (64 bytes); for SM2
    /// raw `r ‖ s` (64 bytes) or DER (`SEQUENCE { r, s }`, OpenSSL's form).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;

    /// A short description for error messages (the command, the KMS key name, …).
    fn describe(&self) -> String {
        "the external signer".into()
    }
}

/// Any `Fn(&[u8]) -> Result<Vec<u8>>` closure signs with Ed25519.
impl<F> SignatureProvider for F
where
    F: Fn(&[u8]) -> Result<Vec<u8>> + Send + Sync,
{
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self(message)
    }
}

/// Signs by running a shell command: message on standard input, raw signature on standard output.
#[derive(Debug, Clone)]
pub struct CommandSigner {
    command: String,
    timeout: Duration,
    algorithm: Algorithm,
}

/// The most a signing command may print: far more than any signature, little enough to hold.
const MAX_ANSWER: u64 = 64 * 1024;

impl CommandSigner {
    /// A signer that runs `sh -c command`, with a 30-second timeout.
    pub fn new(command: &str) -> Self {
        CommandSigner {
            command: command.to_string(),
            timeout: Duration::from_secs(30),
            algorithm: Algorithm::Ed25519,
        }
    }

    /// Sets the algorithm the command signs with (Ed25519 by default). An SM2 command may print
    /// the raw 64-byte `r ‖ s` or DER, as `openssl pkeyutl -sign` does.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the time the command may take per signature before it is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl SignatureProvider for CommandSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn describe(&self) -> String {
        format!("signing command {:?}", self.command)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let what = self.describe();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Key(format!("{what} cannot be started: {e}")))?;
        // Feed and drain on their own threads so that a command that writes before it has read
        // everything cannot deadlock against us.
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let msg = message.to_vec();
        let feeder = std::thread::spawn(move || {
            // A command that exits without reading is judged by its exit status and answer.
            let _ = stdin.write_all(&msg);
        });
        let stdout = child.stdout.take().expect("stdout is piped");
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.take(MAX_ANSWER + 1).read_to_end(&mut out);
            out
        });
        let stderr = child.stderr.take().expect("stderr is piped");
        let err_reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stderr.take(MAX_ANSWER).read_to_end(&mut out);
            out
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Error::Key(format!(
                        "{what} did not answer within {} s; it was stopped and nothing was signed",
                        self.timeout.as_secs_f32()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(Error::Key(format!("{what}: {e}"))),
            }
        };
        let _ = feeder.join();
        let out = reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        let err_tail = last_words(&err);
        if !status.success() {
            return Err(Error::Key(format!(
                "{what} failed ({status}){err_tail}; nothing was signed"
            )));
        }
        let want = self.algorithm.signature_len();
        // SM2 answers may be DER: at most 2 + 2 × (2 + 33) = 72 bytes.
        let fits = match self.algorithm {
            Algorithm::Ed25519 => out.len() == want,
            Algorithm::Sm2 => (8..=72).contains(&out.len()),
        };
        if !fits {
            return Err(Error::Key(format!(
                "{what} printed {} bytes, not a raw {want}-byte {:?} signature{}{err_tail}",
                if out.len() as u64 > MAX_ANSWER {
                    format!("more than {MAX_ANSWER}")
                } else {
                    out.len().to_string()
                },
                self.algorithm,
                if self.algorithm == Algorithm::Sm2 {
                    " or its DER form"
                } else {
                    ""
                }
            )));
        }
        Ok(out)
    }
}

/// The last line of a command's standard error, for messages (`""` when it said nothing).
fn last_words(err: &[u8]) -> String {
    let text = String::from_utf8_lossy(err);
    let line = text.lines().rev().find(|l| !l.trim().is_empty());
    match line {
        Some(l) => {
            let l: String = l.trim().chars().take(200).collect();
            format!(": {}", l.escape_debug())
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_failures_are_clear_errors() {
        let err = CommandSigner::new("echo boom >&2; exit 3")
            .sign(b"m")
            .unwrap_err()
            .to_string();
        assert!(err.contains("failed") && err.contains("boom"), "{err}");
        let err = CommandSigner::new("printf abc")
            .sign(b"m")
            .unwrap_err()
            .to_string();
        assert!(err.contains("printed 3 bytes"), "{err}");
        let err = CommandSigner::new("sleep 5")
            .with_timeout(Duration::from_millis(200))
            .sign(b"m")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not answer"), "{err}");
        // A command that echoes its 64-byte input back is a (lying) signer of the right length.
        let sig = CommandSigner::new("cat").sign(&[7u8; 64]).unwrap();
        assert_eq!(sig, vec![7u8; 64]);
    }
}
