//! The intelligence commands (issue 17), `quietline-console intel …`:
//! `grade` (3x5x2, with its conditions and reason) and `triage` (a THRIVE
//! assessment — the first, or a RE-THRIVE — and the priority), through the
//! library's `Desk` as the other case commands are. The library checks the
//! rules and writes the sealed records and audit entries; this file parses
//! and prints. `show` prints a case's grading, its response target and
//! latest assessment.

use anyhow::Result;
use clap::{Args, Subcommand};
use quietline_casework::desk::Priority;
use quietline_casework::intel::Thrive;
use quietline_casework::intel::grading::{self, GradingInput};

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
    }
    Ok(())
}
