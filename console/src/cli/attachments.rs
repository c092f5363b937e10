//! `attachments CASE` (list a case's attachments) and `attachment save CASE
//! N --out FILE` (write one), through the library's `Desk`, which audits
//! each before anything decrypted comes back (issue 19). This file parses
//! the subcommand, writes the file and prints.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::{Context, Result};
use quietline_casework::desk::AttachmentInfo;
use quietline_casework::labels::Lang;
use quietline_casework::render;

use crate::{Ctx, desk_error};

/// `attachment …`.
#[derive(Debug, clap::Subcommand)]
pub enum AttachmentCommand {
    /// Decrypt one attachment of a case and write it to a new file (never
    /// overwrites; recorded in the audit log before it is decrypted)
    Save {
        /// Report id or prefix
        id: String,
        /// The attachment's number, as `attachments` lists it (from 1)
        number: u32,
        /// The file to create (mode 0600)
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Bytes in words (`1.2 MB`).
fn size(n: u64) -> String {
    match n {
        n if n < 1000 => format!("{n} bytes"),
        n if n < 1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{:.1} MB", n as f64 / 1e6),
    }
}

fn metadata_line(a: &AttachmentInfo) -> String {
    let removed = AttachmentInfo::words(&a.metadata_removed, Lang::En);
    let left: Vec<String> = a
        .metadata_found
        .iter()
        .filter(|k| !a.metadata_removed.contains(k))
        .cloned()
        .collect();
    let mut line = format!("metadata removed by the page: {removed}");
    if !left.is_empty() {
        line.push_str(&format!(
            "; sent as is with: {}",
            AttachmentInfo::words(&left, Lang::En)
        ));
    }
    match &a.metadata_remaining {
        Some(still) => line.push_str(&format!(
            "; still in the file (read here): {}",
            AttachmentInfo::words(still, Lang::En)
        )),
        None => line.push_str(
            "; still in the file: not read (not an image this console reads, or not stored)",
        ),
    }
    line
}

pub async fn list(ctx: &Ctx, id: &str) -> Result<()> {
    let desk = ctx.desk().await?;
    let list = desk
        .attachments(&ctx.handler, id)
        .await
        .map_err(desk_error)?;
    let mut out = std::io::stdout().lock();
    if list.is_empty() {
        writeln!(out, "This case has no attachments.")?;
        return Ok(());
    }
    for a in &list {
        writeln!(
            out,
            "{}. {} · {} · {} · in message {}",
            a.number,
            a.media_type,
            size(a.size),
            a.state_words(),
            render::short(&a.message_id)
        )?;
        writeln!(out, "   {}", metadata_line(a))?;
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, command: AttachmentCommand) -> Result<()> {
    match command {
        AttachmentCommand::Save { id, number, out } => save(ctx, &id, number, out).await,
    }
}

async fn save(ctx: &Ctx, id: &str, number: u32, path: PathBuf) -> Result<()> {
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    save_to(ctx, &desk, &case_id, number, &path).await
}

/// Write attachment `number` of `case_id` to a new file at `path` (also the
/// export's files beside it).
pub async fn save_to(
    ctx: &Ctx,
    desk: &quietline_casework::desk::Desk,
    case_id: &str,
    number: u32,
    path: &std::path::Path,
) -> Result<()> {
    save_file(ctx, desk, case_id, None, number, path).await
}

/// Write attachment `number` of `case_id`, as included in its sanitised
/// intelligence report `report`, to a new file at `path` (beside the
/// exported report). The desk refuses one the report did not choose.
pub async fn save_included_to(
    ctx: &Ctx,
    desk: &quietline_casework::desk::Desk,
    case_id: &str,
    report: u32,
    number: u32,
    path: &std::path::Path,
) -> Result<()> {
    save_file(ctx, desk, case_id, Some(report), number, path).await
}

async fn save_file(
    ctx: &Ctx,
    desk: &quietline_casework::desk::Desk,
    case_id: &str,
    report: Option<u32>,
    number: u32,
    path: &std::path::Path,
) -> Result<()> {
    // The file first: one that exists (never overwritten) or cannot be
    // created refuses before anything is decrypted or audited.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {} (an existing file is never overwritten); nothing was saved",
                path.display()
            )
        })?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut out = |bytes: &[u8]| writer.write_all(bytes);
    let result = match report {
        None => {
            desk.save_attachment(&ctx.handler, case_id, number, &mut out)
                .await
        }
        Some(r) => {
            desk.save_intel_attachment(&ctx.handler, case_id, r, number, &mut out)
                .await
        }
    };
    let finished = result.map_err(desk_error).and_then(|info| {
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(info)
    });
    match finished {
        Ok(info) => {
            eprintln!(
                "Saved attachment {number} of report {} ({}, {}) to {} (mode 0600).",
                render::short(case_id),
                info.media_type,
                size(info.size),
                path.display()
            );
            Ok(())
        }
        Err(e) => {
            // Part of a file is not the reporter's file: nothing is left.
            let _ = std::fs::remove_file(path);
            Err(e)
        }
    }
}
