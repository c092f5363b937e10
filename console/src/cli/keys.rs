//! `init` and `key …`: make, rotate, import and list the force's keys, and
//! the signing key that signs each key's statement (crypto/FORMAT.md#key-statements).
//! The key files, signing keys, statements and the ring are the library's
//! (`keyring`, `keystore`); this file asks for the passphrase, records the
//! audit entry and prints.

use std::path::Path;

use anyhow::{Context, Result, bail};
use quietline_casework::audit;
use quietline_casework::desk::answer::write_default_templates;
use quietline_casework::desk::pull::operator_command;
use quietline_casework::keyring::{self, KeyRing, key_path, list_keys};
use quietline_casework::keystore::read_key_info;
use quietline_crypto::keys::{PublicKey, Suite};
use quietline_crypto::statement::{SignedStatement, SignerKey, SignerSet};

use crate::{Ctx, KeyCommand};

async fn record(ctx: &Ctx, action: &str, detail: String) -> Result<()> {
    let vault = ctx.vault().await?;
    audit::record(&vault, &ctx.actor, action, None, Some(detail))
        .await
        .context("cannot write the audit log")?;
    Ok(())
}

fn signing_dir(ctx: &Ctx) -> std::path::PathBuf {
    ctx.home.root().join("signing")
}

fn statements_dir(ctx: &Ctx) -> std::path::PathBuf {
    ctx.home.root().join("statements")
}

/// Today as a UTC day number (crypto/FORMAT.md#statement-encoding).
fn today_number() -> u32 {
    let days = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .div_euclid(86_400);
    u32::try_from(days).unwrap_or(0)
}

fn print_signer(force: &str, signer: &SignerKey) {
    println!("\nsigning key: {}", signer.to_base64url());
    println!("signer id:   {}", signer.signer_id());
    println!("fingerprint: {}", signer.fingerprint());
    println!(
        "\nThe platform operator registers the signing key once, before the key, with:\n  quietline force signer set {force} --public-key {}",
        signer.to_base64url()
    );
    println!(
        "Publish the fingerprint where reporters and auditors can find it without the platform\n(the force's own website, printed material): it is how anyone checks that a key is the force's."
    );
}

fn print_statement(force: &str, s: &SignedStatement) {
    println!(
        "\nKey statement {} (valid from day {} to day {}), signed by this home's signing key(s).\nThe platform operator registers the key with:\n  quietline force key add {force} --statement {}",
        s.statement().sequence,
        s.statement().valid_from,
        s.statement().valid_until,
        s.to_base64url()
    );
}

/// Today's UTC date, `YYYY-MM-DD`: a key file's creation day.
fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn print_new_key(path: &Path, force: &str, pk: &PublicKey) {
    println!(
        "Wrote {} (mode 0600). Keep it and its passphrase inside the force.",
        path.display()
    );
    println!("public key: {}", pk.to_base64url());
    println!("key id:     {}", pk.key_id());
    println!("suite:      {}", pk.suite());
    println!(
        "\nThe platform operator registers it with:\n  {}",
        operator_command(force, pk)
    );
}

pub async fn init(ctx: &Ctx, force: &str, suite: Suite) -> Result<()> {
    if !quietline_crypto::envelope::is_valid_force_id(force) {
        bail!("force id {force:?} is not 1 to 64 characters of a-z, 0-9 and -");
    }
    let existing = list_keys(&ctx.home.keys_dir())?;
    if let Some((_, info)) = existing.first() {
        bail!(
            "{} already has a key ring ({} key(s) of force {}); use `quietline-console key rotate` for a new key",
            ctx.home.root().display(),
            existing.len(),
            info.force_id
        );
    }
    let mut config = ctx.config()?;
    let pass = ctx.passphrase(true)?;
    ctx.home.create()?;
    let pk = keyring::create_key(
        &ctx.home.keys_dir(),
        force,
        &today(),
        pass.as_bytes(),
        suite,
    )?;
    // The force's signing key, under the same passphrase, and the first
    // statement, which publishes the key (crypto/FORMAT.md#key-statements).
    let signer = keyring::create_signing_key(&signing_dir(ctx), force, &today(), pass.as_bytes())?;
    let statement = keyring::sign_key_statement(
        &signing_dir(ctx),
        &statements_dir(ctx),
        force,
        &pk,
        today_number(),
        keyring::STATEMENT_VALIDITY_DAYS,
        pass.as_bytes(),
    )?;
    drop(pass);
    config.force = Some(force.to_owned());
    config.current_key = Some(pk.key_id().to_hex());
    ctx.home.save_config(&config)?;
    write_default_templates(&ctx.home).map_err(crate::desk_error)?;
    record(
        ctx,
        "init",
        format!("key {}, signing key {}", pk.key_id(), signer.signer_id()),
    )
    .await?;
    println!(
        "Wrote {} (mode 0600). Keep it and its passphrase inside the force.",
        key_path(&ctx.home.keys_dir(), pk.key_id()).display()
    );
    println!("public key: {}", pk.to_base64url());
    println!("key id:     {}", pk.key_id());
    println!("suite:      {}", pk.suite());
    print_signer(force, &signer);
    if let Some(s) = &statement {
        print_statement(force, s);
    }
    Ok(())
}

pub async fn key(ctx: &Ctx, cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::List => {
            let config = ctx.config()?;
            let keys = list_keys(&ctx.home.keys_dir())?;
            if keys.is_empty() {
                println!(
                    "The key ring in {} is empty.",
                    ctx.home.keys_dir().display()
                );
                return Ok(());
            }
            let current = config
                .current_key
                .clone()
                .or_else(|| keys.last().map(|(_, i)| i.key_id.to_hex()));
            println!(
                "{:<16}  {:<10}  {:<12}  {:<7}  PUBLIC KEY",
                "KEY ID", "CREATED", "FORCE", "CURRENT"
            );
            for (_, i) in &keys {
                let cur = if Some(i.key_id.to_hex()) == current {
                    "yes"
                } else {
                    ""
                };
                println!(
                    "{:<16}  {:<10}  {:<12}  {:<7}  {}",
                    i.key_id,
                    i.created,
                    i.force_id,
                    cur,
                    i.public_key.to_base64url()
                );
            }
        }
        KeyCommand::Info { file } => {
            let info = read_key_info(&file)?;
            println!(
                "force:      {}\ncreated:    {}\npublic key: {}\nkey id:     {}\nsuite:      {}",
                info.force_id,
                info.created,
                info.public_key.to_base64url(),
                info.key_id,
                info.public_key.suite()
            );
        }
        KeyCommand::Import { file, current: _ }
            if std::fs::read(&file).is_ok_and(|b| {
                b.starts_with(quietline_crypto::signing_keyfile::FIRST_LINE.as_bytes())
            }) =>
        {
            // A signing-key file (the demo's `signing.key`), and the
            // statement beside it, if any, so the next rotation continues
            // the chain.
            let config = ctx.config()?;
            ctx.home.create()?;
            let pass = ctx.passphrase(false)?;
            let info = keyring::import_signing_key(
                &signing_dir(ctx),
                &file,
                pass.as_bytes(),
                config.force.as_deref(),
            )?;
            drop(pass);
            let beside = file.with_file_name("statement");
            let mut chained = None;
            if let Ok(text) = std::fs::read_to_string(&beside)
                && let Ok(s) = SignedStatement::from_base64url(&text)
                && s.statement().force_id == info.force_id
                && keyring::statements(&statements_dir(ctx))?.is_empty()
            {
                keyring::record_statement(&statements_dir(ctx), &s)?;
                chained = Some(s.statement().sequence);
            }
            record(
                ctx,
                "signing-key-import",
                format!("signing key {}", info.signer_id),
            )
            .await?;
            println!(
                "Imported signing key {} (force {}, fingerprint {}) into {}.",
                info.signer_id,
                info.force_id,
                info.public_key.fingerprint(),
                signing_dir(ctx).display()
            );
            if let Some(seq) = chained {
                println!(
                    "Imported key statement {seq} from {}: `key rotate` continues from it.",
                    beside.display()
                );
            }
        }
        KeyCommand::Import { file, current } => {
            let mut config = ctx.config()?;
            ctx.home.create()?;
            let dir = ctx.home.keys_dir();
            let pass = ctx.passphrase(false)?;
            let force = if list_keys(&dir)?.is_empty() {
                config.force.clone()
            } else {
                // Every key in the ring shares one passphrase: the ring must open with it too.
                let ring = KeyRing::unlock(&dir, config.current_key.as_deref(), pass.as_bytes())
                    .context("the passphrase that opens the new key file must also open the existing key ring")?;
                Some(ring.force_id().to_owned())
            };
            let info = keyring::import_key(&dir, &file, pass.as_bytes(), force.as_deref())?;
            drop(pass);
            config.force = Some(info.force_id.clone());
            let make_current = current || config.current_key.is_none();
            if make_current && let Some(old) = config.current_key.replace(info.key_id.to_hex()) {
                config.previous_key = Some(old);
            }
            ctx.home.save_config(&config)?;
            record(ctx, "key-import", format!("key {}", info.key_id)).await?;
            println!(
                "Imported key {} (force {}, created {}) into {}{}.",
                info.key_id,
                info.force_id,
                info.created,
                dir.display(),
                if make_current {
                    "; it is the current key"
                } else {
                    ""
                }
            );
        }
        KeyCommand::Rotate { suite } => {
            let mut config = ctx.config()?;
            let dir = ctx.home.keys_dir();
            if list_keys(&dir)?.is_empty() {
                return Err(keyring::KeyRingError::Empty(dir).into());
            }
            let pass = ctx.passphrase(false)?;
            let ring = KeyRing::unlock(&dir, config.current_key.as_deref(), pass.as_bytes())?;
            let old = ring.current_key_id();
            let force = ring.force_id().to_owned();
            drop(ring);
            let pk = keyring::create_key(&dir, &force, &today(), pass.as_bytes(), suite)?;
            let statement = keyring::sign_key_statement(
                &signing_dir(ctx),
                &statements_dir(ctx),
                &force,
                &pk,
                today_number(),
                keyring::STATEMENT_VALIDITY_DAYS,
                pass.as_bytes(),
            )?;
            drop(pass);
            let set = keyring::read_signer_set(ctx.home.root())?;
            config.current_key = Some(pk.key_id().to_hex());
            // Until the operator registers the new key, the directory still
            // serves this one: not a substitution (see `directory`).
            config.previous_key = Some(old.to_hex());
            ctx.home.save_config(&config)?;
            record(
                ctx,
                "key-rotate",
                format!("key {} replaces {old}", pk.key_id()),
            )
            .await?;
            match &statement {
                Some(s) => {
                    println!(
                        "Wrote {} (mode 0600). Keep it and its passphrase inside the force.",
                        key_path(&dir, pk.key_id()).display()
                    );
                    println!(
                        "public key: {}\nkey id:     {}\nsuite:      {}",
                        pk.to_base64url(),
                        pk.key_id(),
                        pk.suite()
                    );
                    match &set {
                        Some(set) if keyring::signatures_needed(s, set) > 0 => {
                            print_needs_cosigning(s, set)
                        }
                        _ => print_statement(&force, s),
                    }
                }
                None => print_new_key(&key_path(&dir, pk.key_id()), &force, &pk),
            }
            println!(
                "\nKey {old} stays in the ring and still opens what was sealed to it. Once the new key is registered and\nevery reporter page has the new directory, the operator can retire the old one:\n  quietline force key retire {force} --key-id {old}"
            );
        }
        KeyCommand::Signers {
            public_keys,
            threshold,
        } => {
            let keys = public_keys
                .iter()
                .map(|k| SignerKey::from_base64url(k))
                .collect::<Result<Vec<_>, _>>()
                .context("--public-key")?;
            let set = SignerSet::new(keys, threshold)?;
            let config = ctx.config()?;
            let force = config.force.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "this home has no force yet: run `quietline-console init --force ID` or `key import` first"
                )
            })?;
            let path = keyring::write_signer_set(ctx.home.root(), &set)?;
            let ids: Vec<String> = set.keys().iter().map(|k| k.signer_id().to_hex()).collect();
            record(
                ctx,
                "key-signers",
                format!("{} of {}: {}", set.threshold(), ids.len(), ids.join(", ")),
            )
            .await?;
            println!(
                "Wrote {} (mode 0600): statements need {} of these {} signing keys; the watch checks against them.",
                path.display(),
                set.threshold(),
                set.keys().len()
            );
            for k in set.keys() {
                println!("  {}  fingerprint {}", k.signer_id(), k.fingerprint());
            }
            let args: Vec<String> = set
                .keys()
                .iter()
                .map(|k| format!("--public-key {}", k.to_base64url()))
                .collect();
            println!(
                "\nThe platform operator registers the set once with:\n  quietline force signer set {force} {} --threshold {}",
                args.join(" "),
                set.threshold()
            );
        }
        KeyCommand::Cosign {
            statement,
            statement_file,
            signing_key,
        } => cosign(ctx, statement, statement_file, signing_key).await?,
    }
    Ok(())
}

fn print_needs_cosigning(s: &SignedStatement, set: &SignerSet) {
    println!(
        "\nKey statement {} (valid from day {} to day {}) is signed by this home's signing key(s), but the force\nrequires {} of {} signing keys: it needs {} more signature(s) before the platform takes it.\nEach other custodian adds theirs with:\n  quietline-console key cosign --statement {}\nand the last one prints the operator's `quietline force key add` command.",
        s.statement().sequence,
        s.statement().valid_from,
        s.statement().valid_until,
        set.threshold(),
        set.keys().len(),
        keyring::signatures_needed(s, set),
        s.to_base64url()
    );
}

/// `key cosign`: add this custodian's signature(s) to a statement, keep it
/// in this home's statements (so its chain continues) and print it.
async fn cosign(
    ctx: &Ctx,
    statement: Option<String>,
    statement_file: Option<std::path::PathBuf>,
    signing_key: Option<std::path::PathBuf>,
) -> Result<()> {
    let text = match (statement, statement_file) {
        (Some(t), _) => t,
        (None, Some(f)) => std::fs::read_to_string(&f)
            .with_context(|| format!("cannot read statement file {}", f.display()))?,
        (None, None) => bail!("give the statement with --statement B64 or --statement-file FILE"),
    };
    let s = SignedStatement::from_base64url(&text).context("the statement")?;
    let force = s.statement().force_id.clone();
    let config = ctx.config()?;
    if let Some(ours) = &config.force
        && *ours != force
    {
        bail!(
            "the statement is for force {force:?}, but this home is force {ours:?}'s; nothing was signed"
        );
    }
    // Refuse before signing a statement that would fork this home's chain.
    let keeping = keyring::check_cosigned(&statements_dir(ctx), &s)?;
    let paths: Vec<std::path::PathBuf> = match signing_key {
        Some(p) => vec![p],
        None => keyring::list_signing_keys(&signing_dir(ctx))?
            .into_iter()
            .map(|(p, _)| p)
            .collect(),
    };
    if paths.is_empty() {
        bail!(
            "{} holds no signing key: give this custodian's signing-key file with --signing-key FILE",
            signing_dir(ctx).display()
        );
    }
    let pass = ctx.passphrase(false)?;
    let mut signers = Vec::with_capacity(paths.len());
    for p in &paths {
        signers.push(keyring::open_signing_key(p, pass.as_bytes(), &force)?);
    }
    drop(pass);
    let ids: Vec<String> = signers
        .iter()
        .map(|k| k.public_key().signer_id().to_hex())
        .collect();
    let signed = keyring::cosign_statement(&s, &signers).map_err(|e| match e.code() {
        "signature_order" => anyhow::anyhow!(
            "the statement already carries this custodian's signature ({}); nothing was added",
            ids.join(", ")
        ),
        _ => anyhow::Error::from(e),
    })?;
    drop(signers);
    let kept = keyring::record_cosigned(&statements_dir(ctx), &signed)?;
    if ctx.home.exists() && config.force.is_some() {
        record(
            ctx,
            "key-cosign",
            format!(
                "statement {} for key {} co-signed by {}",
                signed.statement().sequence,
                signed.statement().key_id(),
                ids.join(", ")
            ),
        )
        .await?;
    }
    println!(
        "Co-signed key statement {} for key {} of force {force} with signing key(s) {}; it now carries {} signature(s). Kept in {}.",
        signed.statement().sequence,
        signed.statement().key_id(),
        ids.join(", "),
        signed.signers().count(),
        kept.display()
    );
    if let keyring::Keeping::After(last) = keeping {
        println!(
            "Note: this home holds statements up to {last} only, so it could not check the chain from there to {}.",
            signed.statement().sequence
        );
    }
    match keyring::read_signer_set(ctx.home.root())? {
        Some(set) if keyring::signatures_needed(&signed, &set) > 0 => {
            print_needs_cosigning(&signed, &set)
        }
        Some(_) => {
            println!("It has the signatures the force requires.");
            print_statement(&force, &signed);
        }
        None => {
            println!(
                "(This home has no signers.json: whether more signatures are needed is not known here.)"
            );
            print_statement(&force, &signed);
        }
    }
    Ok(())
}
