//! The case commands — `pull`, `list`, `show`, `reply`, `status`, `note`,
//! `assign`, `label`, `export` — through the library's `Desk`, opened for the command as the
//! custodian `--handler` (or the OS user). The desk writes every audit entry
//! (before anything decrypted comes back); this file prompts, writes files
//! and prints.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use quietline_casework::client::{Client, WaitPolicy};
use quietline_casework::desk::{
    Direction, ExportFormat, QueueQuery, SortKey, View, queue::ALL_ROWS,
};
use quietline_casework::export::Format;
use quietline_casework::home::Home;
use quietline_casework::records::Status;
use quietline_casework::render;
use zeroize::Zeroizing;

use crate::{Ctx, desk_error};

pub async fn pull(ctx: &Ctx, max_wait: u64) -> Result<()> {
    let config = ctx.config()?;
    // Hidden until the passphrase has been asked (a spinner would draw over the prompt).
    let progress = ProgressBar::hidden();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        progress.set_style(style);
    }
    // A server that is unavailable (restarting, its storage down) is waited
    // for, one line per wait; what was already stored stays stored.
    let notice_bar = progress.clone();
    let token = config.token()?;
    let client = Client::new(config.server()?, Some(&token))?.with_waiting(
        WaitPolicy {
            max_total: std::time::Duration::from_secs(max_wait),
            max_each: quietline_casework::client::MAX_WAIT_EACH,
        },
        Box::new(move |line| notice_bar.suspend(|| eprintln!("{line}"))),
    );
    // Before anything else (and before the passphrase): the directory must
    // serve this console's key.
    let shown = crate::cli::login::directory_first(ctx, &client).await?;
    let desk = ctx.desk_for_pull().await?;
    if std::io::stderr().is_terminal() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        progress.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    let result = desk.pull_with(&ctx.handler, &client, &progress).await;
    progress.finish_and_clear();
    let run = result.map_err(desk_error)?;
    // The pull's own check repeats the directory's (printed above) and adds
    // the key log's (issue 20's watch): print what is new.
    if let Some(w) = &run.warning {
        let rest = shown
            .as_deref()
            .and_then(|s| w.strip_prefix(s))
            .unwrap_or(w)
            .trim_start_matches('\n');
        if !rest.is_empty() {
            eprintln!("warning: {rest}");
        }
    }
    let s = run.summary;
    let (total, _) = ctx.vault().await?.counts().await?;
    println!(
        "Pulled {} new envelope(s): {} opened, {} flagged; {} already in the vault; {} refused. The vault holds {total}.",
        s.new,
        s.opened,
        s.flagged_total(),
        s.already,
        s.refused
    );
    if s.flagged_total() > 0 {
        let by: Vec<String> = s.flagged.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!(
            "Flagged (kept sealed in the vault, not readable): {}",
            by.join(", ")
        );
        for (id, why) in &s.flagged_examples {
            println!("  {}  {}", render::short(id), why);
        }
    }
    let a = &s.attachments;
    if a.stored + a.flagged_total() + a.waiting > 0 {
        println!(
            "Attachments: {} stored, {} flagged, {} to fetch again by the next pull.",
            a.stored,
            a.flagged_total(),
            a.waiting
        );
        for (id, n, why) in &a.examples {
            println!("  {} attachment {n}  {why}", render::short(id));
        }
    }
    if s.refused > 0 {
        println!("Refused (not stored):");
        for (id, why) in &s.refused_examples {
            println!("  {id}  {why}");
        }
    }
    if !s.transfers_in.is_empty() {
        println!("Passed on by other forces (shown as transferred):");
        for (id, from) in &s.transfers_in {
            println!("  {}  from {from}", render::short(id));
        }
    }
    // The directory's warning was printed before the pull; this is the
    // transfer's (follow-ups of transferred cases not passed on yet).
    for line in run.warning.iter().flat_map(|w| w.lines()) {
        if line.starts_with("follow-ups of transferred cases") {
            eprintln!("warning: {line}");
        }
    }
    Ok(())
}

pub async fn list(
    ctx: &Ctx,
    status: Option<Status>,
    since: Option<String>,
    search: Option<String>,
    flagged: bool,
    (overdue, review_due): (bool, bool),
) -> Result<()> {
    if let Some(s) = &since
        && !quietline_casework::client::is_day(s)
    {
        bail!("--since takes a day as YYYY-MM-DD, not {s:?}");
    }
    let desk = ctx.desk().await?;
    let q = QueueQuery {
        view: View::All,
        statuses: status.into_iter().collect(),
        received_from: since,
        search,
        flagged: flagged.then_some(true),
        overdue,
        review_due,
        sort: SortKey::Received,
        direction: Direction::Ascending,
        page: 1,
        per_page: ALL_ROWS,
        ..QueueQuery::default()
    };
    // Every row on one page: one audited queue call.
    let page = desk.queue(&ctx.handler, &q).await.map_err(desk_error)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", render::list_header())?;
    for row in &page.rows {
        writeln!(out, "{}", render::queue_line(row))?;
    }
    writeln!(
        out,
        "{} shown of {} in the vault ({} flagged).",
        page.total, page.counts.all, page.counts.flagged
    )?;
    Ok(())
}

pub async fn show(ctx: &Ctx, id: &str) -> Result<()> {
    let desk = ctx.desk().await?;
    let view = desk.case(&ctx.handler, id).await.map_err(desk_error)?;
    print!("{}", render::show_case(&view));
    Ok(())
}

pub async fn reply(ctx: &Ctx, id: &str, message: Option<String>, lang: &str) -> Result<()> {
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    let message = match message {
        Some(m) => Zeroizing::new(m),
        None => compose_in_editor(&ctx.home, &case_id)?,
    };
    // The command line has no reply form: it sends after whatever was sent
    // before (the slot claims still keep two senders apart).
    let sent = desk
        .reply(&ctx.handler, &case_id, &message, lang, u32::MAX)
        .await
        .map_err(desk_error)?;
    for s in &sent.skipped {
        eprintln!(
            "note: reply slot {s} was already taken (409: another handler may have replied); moved on"
        );
    }
    println!(
        "Reply sent to slot {} of thread {} (report {}).",
        sent.slot,
        sent.thread,
        render::short(&case_id)
    );
    Ok(())
}

pub async fn status(ctx: &Ctx, id: &str, status: Status) -> Result<()> {
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    let changed = desk
        .set_status(&ctx.handler, &case_id, status)
        .await
        .map_err(desk_error)?;
    if changed {
        println!("Report {} is now {status}.", render::short(&case_id));
    } else {
        println!("Report {} is already {status}.", render::short(&case_id));
    }
    Ok(())
}

pub async fn note(ctx: &Ctx, id: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        bail!("the note is empty; nothing was written");
    }
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    desk.note(&ctx.handler, &case_id, text)
        .await
        .map_err(desk_error)?;
    println!("Note added to report {}.", render::short(&case_id));
    Ok(())
}

/// `assign ID ACCOUNT` / `assign ID --nobody`: the desk's assign (the
/// library refuses an account that is not active).
pub async fn assign(ctx: &Ctx, id: &str, to: Option<&str>) -> Result<()> {
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    let changed = desk
        .assign(&ctx.handler, &case_id, to)
        .await
        .map_err(desk_error)?;
    let whom = to.unwrap_or("nobody");
    if changed {
        println!(
            "Report {} is now assigned to {whom}.",
            render::short(&case_id)
        );
    } else {
        println!(
            "Report {} is already assigned to {whom}.",
            render::short(&case_id)
        );
    }
    Ok(())
}

/// `label ID --add L --remove L`: the desk's labels (sealed; never in the
/// audit log).
pub async fn label(ctx: &Ctx, id: &str, add: &[String], remove: &[String]) -> Result<()> {
    if add.is_empty() && remove.is_empty() {
        bail!("give a label to --add or --remove; nothing was changed");
    }
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    let changed = desk
        .label(&ctx.handler, &case_id, add, remove)
        .await
        .map_err(desk_error)?;
    if changed {
        println!("Labels of report {} changed.", render::short(&case_id));
    } else {
        println!(
            "Report {}'s labels were already so; nothing was changed.",
            render::short(&case_id)
        );
    }
    Ok(())
}

/// Write a reply in `$VISUAL`/`$EDITOR` (default `vi`) in a 0600 file inside
/// the home, which is overwritten and removed afterwards.
fn compose_in_editor(home: &Home, id: &str) -> Result<Zeroizing<String>> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| anyhow!("random: {e}"))?;
    let path = home.root().join(format!("reply-{}.txt", hex::encode(rnd)));
    let template = format!(
        "\n# Write the reply to the reporter of report {} above this line.\n# Lines starting with # are removed. An empty reply sends nothing.\n",
        render::short(id)
    );
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(template.as_bytes()))
        .with_context(|| format!("cannot create {}", path.display()))?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(&path)
        .status();
    let text = std::fs::read_to_string(&path).map(Zeroizing::new);
    // Overwrite before removing: the draft is plaintext.
    if let Ok(meta) = std::fs::metadata(&path) {
        let _ = std::fs::write(&path, vec![0u8; meta.len() as usize]);
    }
    let _ = std::fs::remove_file(&path);
    let status =
        status.with_context(|| format!("cannot run the editor {program:?} (set $EDITOR)"))?;
    if !status.success() {
        bail!("the editor exited with {status}; nothing was sent");
    }
    let text = text.context("cannot read the reply back")?;
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    Ok(Zeroizing::new(body.join("\n").trim().to_owned()))
}

pub async fn export(
    ctx: &Ctx,
    id: &str,
    reason: &str,
    format: Format,
    output: Option<PathBuf>,
) -> Result<()> {
    quietline_casework::desk::export::check_reason(reason).map_err(desk_error)?;
    let desk = ctx.desk().await?;
    let case_id = desk.resolve(&ctx.handler, id).await.map_err(desk_error)?;
    // The output file comes first: one that exists (never overwritten) or
    // cannot be created refuses the export before anything is decrypted, so
    // nothing was revealed and the audit log records nothing.
    let file = match &output {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| {
                    format!(
                        "cannot create {} (an existing file is never overwritten); nothing was exported",
                        path.display()
                    )
                })?,
        ),
        None => None,
    };
    let remove_partial = || {
        if let Some(path) = &output {
            let _ = std::fs::remove_file(path);
        }
    };
    let format = match format {
        Format::Json => ExportFormat::Json,
        Format::Html => ExportFormat::Html,
    };
    let export = match desk.export(&ctx.handler, &case_id, format, reason).await {
        Ok(e) => e,
        Err(e) => {
            remove_partial();
            return Err(desk_error(e));
        }
    };
    let written = match (file, &output) {
        (Some(mut f), Some(path)) => f
            .write_all(export.body.as_bytes())
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))
            .map(|()| {
                eprintln!(
                    "Exported report {} to {} (mode 0600).",
                    render::short(&case_id),
                    path.display()
                )
            }),
        _ => std::io::stdout()
            .lock()
            .write_all(export.body.as_bytes())
            .context("cannot write the export to standard output"),
    };
    if let Err(e) = written {
        remove_partial();
        // An entry written before the attempt is followed by one that says it failed.
        desk.export_not_delivered(&ctx.handler, &case_id, format, &format!("{e:#}"))
            .await
            .map_err(desk_error)
            .context("the export failed, and the audit log could not record that it failed")?;
        return Err(e);
    }
    // The attachments beside the export, under the names its page links
    // (issue 19): each written through the desk, which audits it first.
    let stored: Vec<_> = export
        .attachments
        .iter()
        .filter(|(_, a)| a.is_stored())
        .collect();
    match &output {
        None if !stored.is_empty() => eprintln!(
            "The case has {} stored attachment(s); export with --output FILE to write them beside it.",
            stored.len()
        ),
        None => {}
        Some(path) => {
            for (name, a) in stored {
                let beside = path.with_file_name(name);
                crate::cli::attachments::save_to(ctx, &desk, &case_id, a.number, &beside).await?;
            }
        }
    }
    Ok(())
}
