//! `aigcmark trust …`: editing a trust store (today: revoking a key).
//!
//! The store is rewritten through a temporary file and a rename, so a verifier reading it at the
//! same time sees the old store or the new one, never half of one.

use std::path::PathBuf;

use clap::Subcommand;

use aigcmark::{Error, TrustStore};

use super::EXIT_OK;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Revoke a key from a time on: seals made then or later are untrusted, older ones stay
    /// trusted (a timestamp token's time decides when the seal has one).
    Revoke {
        /// The key id (16 hex digits, as `keygen` and `verify` print it).
        key_id: String,
        /// When the key stopped being trustworthy (RFC 3339, e.g. 2026-03-01T00:00:00Z).
        #[arg(long)]
        at: String,
        /// Why (recorded in the store and shown in reports).
        #[arg(long)]
        reason: Option<String>,
        /// The trust store file to edit.
        #[arg(long)]
        store: PathBuf,
    },
}

pub fn run(cmd: TrustCommand) -> Result<u8, Error> {
    match cmd {
        TrustCommand::Revoke {
            key_id,
            at,
            reason,
            store,
        } => {
            let mut trust = TrustStore::load(&store)?;
            let n = trust.revoke(&key_id, &at, reason.as_deref())?;
            aigcmark::io::write_atomic(&store, trust.to_json().as_bytes())?;
            let when = trust
                .entries()
                .find(|e| e.key_id.eq_ignore_ascii_case(&key_id))
                .and_then(|e| e.revoked_at.clone())
                .unwrap_or(at);
            println!(
                "{}: key {key_id} revoked from {when} ({n} entr{})",
                store.display(),
                if n == 1 { "y" } else { "ies" }
            );
            Ok(EXIT_OK)
        }
    }
}
