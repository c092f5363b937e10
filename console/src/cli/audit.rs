//! `audit` and `audit verify`: print the chain, check it. No passphrase: the
//! log holds no secret. The check itself is the library's
//! (`quietline_casework::desk::audit::check`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use futures_util::TryStreamExt;
use quietline_casework::desk::audit::check;
use quietline_casework::render;
use quietline_casework::text;

use crate::{AuditCommand, Ctx};

pub async fn audit(ctx: &Ctx, command: Option<AuditCommand>) -> Result<ExitCode> {
    let vault = ctx.vault().await?;
    match command {
        None => {
            let mut rows = vault.audit_entries();
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:>5}  {:<20}  {:<24}  {:<12}  {:<13}  {:<12}  DETAIL",
                "SEQ", "TIME (UTC)", "OS USER", "HANDLER", "ACTION", "REPORT"
            )?;
            while let Some(r) = rows.try_next().await? {
                writeln!(
                    out,
                    "{:>5}  {:<20}  {:<24}  {:<12}  {:<13}  {:<12}  {}",
                    r.seq,
                    text::clean_line(&r.at, 20),
                    text::clean_line(&r.os_user, 24),
                    text::clean_line(r.handler.as_deref().unwrap_or("-"), 12),
                    text::clean_line(&r.action, 13),
                    r.report_id.as_deref().map(render::short).unwrap_or("-"),
                    text::clean_line(r.detail.as_deref().unwrap_or(""), 60)
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(AuditCommand::Verify { head }) => {
            let v = check(&vault, head.as_deref()).await?;
            if v.intact() {
                println!(
                    "The audit log is intact: {} entries, head {}.",
                    v.entries,
                    v.head.as_deref().unwrap_or("(empty)")
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("The audit log is NOT intact ({} entries read):", v.entries);
                for p in &v.problems {
                    eprintln!("  - {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
