//! The intelligence commands (issue 17), `quietline-console intel …`:
//! `grade` (3x5x2, with its conditions and reason) and `triage` (a THRIVE
//! assessment — the first, or a RE-THRIVE — and the priority), through the
//! library's `Desk` as the other case commands are. The library checks the
//! rules and writes the sealed records and audit entries; this file parses
//! and prints. `show` prints a case's grading, its response target and
//! latest assessment. Retention (`retain`, `delete`) and `disclose` are a
//! supervisor's in the library; the command line acts as the custodian who
//! holds the passphrase, so its refusals come from the rules (an open case,
//! a missing reason), not the role. `list --overdue` and `list --review-due`
//! list the cases a bureau chases.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use quietline_casework::desk::disclose::check_form;
use quietline_casework::desk::{DisclosureForm, ExportFormat, Priority};
use quietline_casework::export::Format;
use quietline_casework::intel::Thrive;
use quietline_casework::intel::grading::{self, GradingInput};
use quietline_casework::intel::report::{self, ReportDraft};
use quietline_casework::text;

use crate::{Ctx, desk_error};

/// `quietline-console intel …`.
#[derive(Subcommand)]
pub enum IntelCommand {
    /// Grade a case 3x5x2, e.g. `intel grade ID --source 2 --assessment B
    /// --handling P` (stored sealed, with history; shown as `2 B P`)
    Grade {
        /// Case id or prefix
        id: String,
        /// Source evaluation: 1 reliable, 2 untested (where an anonymous
        /// report starts), 3 not reliable
        #[arg(long, value_name = "1|2|3")]
        source: String,
        /// Intelligence assessment: A known directly to the source, B known
        /// indirectly but corroborated, C known indirectly, D not known, E
        /// suspected to be false or malicious
        #[arg(long, value_name = "A-E")]
        assessment: String,
        /// Handling code: P lawful sharing permitted, C permitted with conditions
        #[arg(long, value_name = "P|C")]
        handling: String,
        /// The conditions (required for C, refused for P)
        #[arg(long, value_name = "TEXT", default_value = "")]
        conditions: String,
        /// Why (required when the source evaluation changes)
        #[arg(long, value_name = "TEXT", default_value = "")]
        reason: String,
    },
    /// Triage a case: a THRIVE assessment (all six fields; later ones are
    /// RE-THRIVEs, kept beside the first) and its priority
    Triage(TriageArgs),
    /// Number the lines a reporter wrote in a case, to choose with `report --line N`
    Lines {
        /// Case id or prefix
        id: String,
    },
    /// Write a sanitised intelligence report from a graded case: your own
    /// words, the reporter's only as lines you choose; prints its reference
    Report {
        /// Case id or prefix
        id: String,
        /// A short title
        #[arg(long, value_name = "TEXT")]
        title: String,
        /// The intelligence, re-worded so nothing identifies the source
        #[arg(long, value_name = "TEXT")]
        text: String,
        /// Copy in line N of `intel lines` as the reporter's own words (repeat for more)
        #[arg(long = "line", value_name = "N")]
        lines: Vec<usize>,
        /// Include attachment N of `attachments CASE` (repeat for more; none by default)
        #[arg(long = "attachment", value_name = "N")]
        attachments: Vec<u32>,
        /// Confirm you checked attachment N does not identify the source
        /// (needed for each included file that may still carry hidden details)
        #[arg(long = "checked", value_name = "N")]
        checked: Vec<u32>,
        /// OFFICIAL, OFFICIAL-SENSITIVE (the default) or SECRET
        #[arg(long, value_name = "MARKING", default_value = "OFFICIAL-SENSITIVE")]
        marking: String,
    },
    /// Export sanitised report N of a case, signed with the force's export key
    Export {
        /// Case id or prefix
        id: String,
        /// The report's number in the case (the reference ends with it)
        number: u32,
        /// JSON for the records system, or a printable HTML page
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write to this new file (0600, never overwritten) instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Review a closed case for retention and keep it until a new review
    /// date (supervisors; the reason is stored sealed)
    Retain {
        /// Case id or prefix
        id: String,
        /// The next review day, YYYY-MM-DD (after today)
        #[arg(long, value_name = "DAY")]
        until: String,
        /// Why the case is kept
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Delete a closed case from the vault after a retention review: its
    /// report, follow-ups and every sealed record (supervisors; audited
    /// with the case id only; cannot be undone)
    Delete {
        /// Case id or prefix
        id: String,
        /// The case's short id (12 hex digits) again, to confirm
        #[arg(long, value_name = "ID")]
        confirm: String,
    },
    /// Disclose sanitised report N of a case to a partner outside the
    /// platform (supervisors): recorded on the case and in the audit log, and
    /// written signed with the partner, purpose and handling conditions
    Disclose {
        /// Case id or prefix
        id: String,
        /// The sanitised report's number in the case
        number: u32,
        /// The partner, e.g. "Local authority safeguarding team"
        #[arg(long, value_name = "TEXT")]
        partner: String,
        /// Why it is disclosed (the lawful purpose)
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// The handling conditions the partner must keep to
        #[arg(long, value_name = "TEXT")]
        conditions: String,
        /// JSON, or a printable HTML page
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write to this new file (0600, never overwritten) instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// The THRIVE fields and the priority.
#[derive(Args)]
pub struct TriageArgs {
    /// Case id or prefix
    id: String,
    /// Threat: who or what poses a threat, to whom, and how
    #[arg(long, value_name = "TEXT")]
    threat: String,
    /// Harm: what harm has been or could be done, how serious
    #[arg(long, value_name = "TEXT")]
    harm: String,
    /// Risk: how likely the harm is, and how soon
    #[arg(long, value_name = "TEXT")]
    risk: String,
    /// Investigation: lines of enquiry and opportunities
    #[arg(long, value_name = "TEXT")]
    investigation: String,
    /// Vulnerability: who is vulnerable and why
    #[arg(long, value_name = "TEXT")]
    vulnerability: String,
    /// Engagement: safeguarding, partners, specialist teams
    #[arg(long, value_name = "TEXT")]
    engagement: String,
    /// Priority: high (threat to life, serious harm, imminent risk or
    /// opportunity), medium (time-critical), low (all other)
    #[arg(long, value_enum)]
    priority: Priority,
}

pub async fn intel(ctx: &Ctx, command: IntelCommand) -> Result<()> {
    match command {
        IntelCommand::Grade {
            id,
            source,
            assessment,
            handling,
            conditions,
            reason,
        } => {
            let input = GradingInput {
                source,
                assessment,
                handling,
                conditions,
                reason,
            };
            // The library's rule first, before the passphrase is asked.
            if let Err(errors) = grading::check(
                None,
                &GradingInput {
                    reason: "-".into(),
                    ..input.clone()
                },
            ) {
                let words: Vec<String> = errors.into_iter().map(|(_, m)| m).collect();
                anyhow::bail!("{}", words.join("; "));
            }
            let desk = ctx.desk().await?;
            let changed = desk
                .grade(&ctx.handler, &id, &input)
                .await
                .map_err(desk_error)?;
            let code = format!(
                "{} {} {}",
                input.source.trim(),
                input.assessment.trim().to_ascii_uppercase(),
                input.handling.trim().to_ascii_uppercase()
            );
            if changed {
                println!("Graded {code}.");
            } else {
                println!("Already graded {code}: nothing written.");
            }
        }
        IntelCommand::Triage(a) => {
            let mut t = Thrive::default();
            for (k, v) in [
                ("threat", &a.threat),
                ("harm", &a.harm),
                ("risk", &a.risk),
                ("investigation", &a.investigation),
                ("vulnerability", &a.vulnerability),
                ("engagement", &a.engagement),
            ] {
                t.set(k, v);
            }
            if let Err(errors) = t.check() {
                let words: Vec<String> = errors.into_iter().map(|(_, m)| m).collect();
                anyhow::bail!("{}", words.join("; "));
            }
            let desk = ctx.desk().await?;
            let done = desk
                .triage(&ctx.handler, &a.id, &t, a.priority)
                .await
                .map_err(desk_error)?;
            let targets = desk.response_targets().map_err(desk_error)?;
            println!(
                "{} saved; priority {}{}; response target {} from now.",
                if done.reassessment {
                    "RE-THRIVE"
                } else {
                    "THRIVE"
                },
                a.priority,
                if done.status_changed {
                    ", status triaged"
                } else {
                    ""
                },
                quietline_casework::intel::targets::duration_words(
                    targets.for_priority(a.priority)
                )
            );
        }
        IntelCommand::Lines { id } => {
            let desk = ctx.desk().await?;
            let form = desk
                .intel_report_form(&ctx.handler, &id)
                .await
                .map_err(desk_error)?;
            for (i, l) in form.candidates.iter().enumerate() {
                println!(
                    "{i:>3}  {}: {}",
                    text::clean_line(&l.from, 40),
                    text::clean_line(&l.text, 200)
                );
            }
        }
        IntelCommand::Report {
            id,
            title,
            text: words,
            lines,
            attachments,
            checked,
            marking,
        } => {
            let desk = ctx.desk().await?;
            let reference = desk
                .write_intel_report(
                    &ctx.handler,
                    &id,
                    &ReportDraft {
                        title,
                        text: words,
                        chosen: lines,
                        marking,
                        attachments,
                        checked,
                    },
                )
                .await
                .map_err(desk_error)?;
            println!("Sanitised intelligence report {reference} written.");
        }
        IntelCommand::Export {
            id,
            number,
            format,
            output,
        } => {
            if let Some(p) = &output
                && p.exists()
            {
                anyhow::bail!(
                    "{} exists (an existing file is never overwritten); nothing was exported",
                    p.display()
                );
            }
            let desk = ctx.desk().await?;
            let format = match format {
                Format::Json => ExportFormat::Json,
                Format::Html => ExportFormat::Html,
            };
            let e = desk
                .export_intel_report(&ctx.handler, &id, number, format)
                .await
                .map_err(desk_error)?;
            write_out(output.as_deref(), &e.body)?;
            if let Some(p) = &output {
                eprintln!("Exported {} to {}.", e.file_name, p.display());
            }
            write_included(ctx, &desk, &id, number, &e, output.as_deref()).await?;
        }
        IntelCommand::Retain { id, until, reason } => {
            let desk = ctx.desk().await?;
            let r = desk
                .retain(&ctx.handler, &id, &until, &reason)
                .await
                .map_err(desk_error)?;
            println!("Kept; next retention review {}.", r.review_on);
        }
        IntelCommand::Delete { id, confirm } => {
            let desk = ctx.desk().await?;
            let d = desk
                .delete_case(&ctx.handler, &id, &confirm)
                .await
                .map_err(desk_error)?;
            println!(
                "Deleted the case: {} message{} and {} sealed record{} removed from the vault.",
                d.envelopes,
                if d.envelopes == 1 { "" } else { "s" },
                d.records,
                if d.records == 1 { "" } else { "s" }
            );
            if d.wal_truncated == Some(false) {
                eprintln!(
                    "warning: another connection was reading the vault, so its write-ahead log was not truncated: the deleted rows' old bytes may stay in vault.sqlite-wal until the next checkpoint (stop the desk and run any console command to finish it)"
                );
            }
        }
        IntelCommand::Disclose {
            id,
            number,
            partner,
            reason,
            conditions,
            format,
            output,
        } => {
            if let Some(p) = &output
                && p.exists()
            {
                anyhow::bail!(
                    "{} exists (an existing file is never overwritten); nothing was disclosed",
                    p.display()
                );
            }
            let form = DisclosureForm {
                number,
                partner,
                reason,
                conditions,
            };
            if let Err(errors) = check_form(&form) {
                let words: Vec<String> = errors.into_iter().map(|(_, m)| m).collect();
                anyhow::bail!("{}; nothing was disclosed", words.join("; "));
            }
            let desk = ctx.desk().await?;
            let format = match format {
                Format::Json => ExportFormat::Json,
                Format::Html => ExportFormat::Html,
            };
            let e = desk
                .disclose(&ctx.handler, &id, &form, format)
                .await
                .map_err(desk_error)?;
            write_out(output.as_deref(), &e.body)?;
            eprintln!(
                "Disclosed to {}: recorded on the case and in the audit log{}.",
                text::clean_line(&form.partner, 120),
                output
                    .as_ref()
                    .map(|p| format!("; written to {}", p.display()))
                    .unwrap_or_default()
            );
            write_included(ctx, &desk, &id, number, &e, output.as_deref()).await?;
        }
    }
    Ok(())
}

/// The attachments sanitised report `number` includes (issue 19), written
/// beside the exported file `output` under the names it links them by, as
/// the raw export does: each read through the desk, which checks the
/// report chose it and audits it first. Without `output`, a reminder.
async fn write_included(
    ctx: &Ctx,
    desk: &quietline_casework::desk::Desk,
    id: &str,
    number: u32,
    e: &quietline_casework::desk::Export,
    output: Option<&std::path::Path>,
) -> Result<()> {
    let stored: Vec<_> = e
        .attachments
        .iter()
        .filter(|(_, a)| a.is_stored())
        .collect();
    match output {
        None if !stored.is_empty() => eprintln!(
            "The report includes {} attachment(s); export with --output FILE to write them beside it.",
            stored.len()
        ),
        None => {}
        Some(path) => {
            let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
            for (name, a) in stored {
                crate::cli::attachments::save_included_to(
                    ctx,
                    desk,
                    &case_id,
                    number,
                    a.number,
                    &path.with_file_name(name),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// `quietline-console export verify|key …`: the signed intelligence report.
#[derive(Subcommand)]
pub enum ExportCommand {
    /// Check a sanitised intelligence report's signature (JSON or the
    /// printable HTML page); no passphrase, no console home needed. Exit 0:
    /// valid (and signed by the pinned key, if given); 1: not valid
    Verify {
        /// The exported file
        file: PathBuf,
        /// The force's export key to pin (base64url, from `export key show`
        /// or its `export-key.pub`): the file must be signed by it
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
    },
    /// The force's export key
    #[command(subcommand)]
    Key(ExportKeyCommand),
}

/// `export key …`.
#[derive(Subcommand)]
pub enum ExportKeyCommand {
    /// Make the force's Ed25519 export key (once; its private half sealed to
    /// the key ring in the home, its public half in export-key.pub)
    Create,
    /// Print the export key's public half and fingerprint, for records teams to pin
    Show,
}

pub async fn export(ctx: &Ctx, command: ExportCommand) -> Result<ExitCode> {
    match command {
        ExportCommand::Verify { file, public_key } => {
            let pinned: Option<[u8; 32]> = match &public_key {
                Some(k) => Some(
                    report::parse_public_key(k)
                        .ok_or_else(|| {
                            anyhow!("--public-key is not an export key: 32 bytes in base64url, as `export key show` prints")
                        })?,
                ),
                None => None,
            };
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match report::verify(&bytes, pinned.as_ref()) {
                Ok(f) => {
                    println!(
                        "Valid: {} ({}, graded {}), signed by the export key {}{}.",
                        text::clean_line(&f.report.reference, 80),
                        text::clean_line(&f.report.protective_marking, 30),
                        text::clean_line(&f.report.grading.code, 10),
                        f.signature.key_fingerprint,
                        if pinned.is_some() {
                            ", the pinned key"
                        } else {
                            " (not pinned: compare this fingerprint with the force's, or pass --public-key)"
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("NOT valid: {e}.");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ExportCommand::Key(ExportKeyCommand::Create) => {
            let desk = ctx.desk().await?;
            let k = desk
                .create_export_key(&ctx.handler)
                .await
                .map_err(desk_error)?;
            println!(
                "The force's export key is made.\npublic key: {}\nfingerprint: {}\nGive the public key to the records team to pin (also in {}).",
                k.public_key,
                k.fingerprint,
                ctx.home
                    .root()
                    .join(quietline_casework::desk::intel_report::EXPORT_PUB_FILE)
                    .display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ExportCommand::Key(ExportKeyCommand::Show) => {
            let path = ctx
                .home
                .root()
                .join(quietline_casework::desk::intel_report::EXPORT_PUB_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read {}: a custodian makes the key with `quietline-console export key create`",
                    path.display()
                )
            })?;
            print!("{}", text::clean(&text));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Write `body` to a new 0600 file, or print it.
fn write_out(output: Option<&Path>, body: &str) -> Result<()> {
    match output {
        Some(path) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| {
                    format!(
                        "cannot create {} (an existing file is never overwritten)",
                        path.display()
                    )
                })?;
            f.write_all(body.as_bytes())?;
            f.sync_all()?;
            Ok(())
        }
        None => {
            print!("{body}");
            Ok(())
        }
    }
}
