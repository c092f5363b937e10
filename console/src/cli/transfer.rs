//! `transfer CASE --to FORCE --reason TEXT` (issue 17): pass a case to
//! another force on the platform through the library's `Desk::transfer`
//! (which checks the receiving force's key, re-seals, submits with its proof
//! of work, closes the case as transferred and audits it). This file prints.

use anyhow::Result;
use quietline_casework::render;

use crate::{Ctx, desk_error};

pub async fn transfer(ctx: &Ctx, id: &str, to: &str, reason: &str) -> Result<()> {
    let desk = ctx.desk().await?;
    let out = desk
        .transfer(&ctx.handler, id, to, reason)
        .await
        .map_err(desk_error)?;
    println!(
        "Case {} transferred to {} ({}): sealed to its key {}, accepted by the platform as {}.",
        render::short(&out.case_id),
        out.to_name,
        out.to,
        out.key_id,
        render::short(&out.receipt)
    );
    println!("Key check: {}.", out.key_check);
    if out.attachments_passed + out.attachments_not_passed > 0 {
        println!(
            "Attachments passed on: {} (re-sealed under new keys and uploaded to {}){}.",
            out.attachments_passed,
            out.to_name,
            if out.attachments_not_passed > 0 {
                format!(
                    "; {} could not be passed on: never stored whole here (flagged or not fetched), so {} cannot fetch them",
                    out.attachments_not_passed, out.to_name
                )
            } else {
                String::new()
            }
        );
    }
    println!(
        "Messages passed on: {}{}. The case is closed as transferred here; follow-ups that still reach this force are passed on by each pull.",
        out.forwarded,
        if out.pending > 0 {
            format!(" ({} not yet: the next pull tries again)", out.pending)
        } else {
            String::new()
        }
    );
    Ok(())
}
