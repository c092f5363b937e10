//! The vault generator (issue 16, "Speed and scale"): a console home — a key
//! file sealed under a passphrase, `config.toml`, the vault — holding N
//! reports as a force's desk would after pulling them, for the desk
//! benchmarks (start, queue, case and search latency, memory).
//!
//! It owns making realistic content (categories, details of varied length,
//! places, times, people and vehicles, English and some Welsh; follow-ups in
//! some threads; statuses, notes and reply copies on some cases, each with its
//! audit entry) and writing it through the casework library's own API, so the
//! vault is exactly what the desk reads: envelopes sealed to the generated key
//! and stored as pulled (in batches, in the order a desk would have learned
//! them), records sealed to the same key. It does not start a server, a desk
//! or a pull, and it writes nothing outside the directory it is given.
//!
//! The content is drawn from a seeded generator (`Spec::seed`), so two runs
//! with the same spec make the same reports, ids and days (the sealing itself
//! uses the OS's randomness, as the page does). Speed: sealing runs on worker
//! threads (every core) while the vault stores the previous batch; records and
//! audit entries are one durable commit each, as the console writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use quietline_casework::audit::{self, Actor};
use quietline_casework::home::{Config, Home};
use quietline_casework::keyring::key_path;
use quietline_casework::keystore::write_key_file;
use quietline_casework::records::{self, Record, RecordBody, Status};
use quietline_casework::vault::{NewEnvelope, Vault};
use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use quietline_crypto::keys::{PublicKey, generate_keypair};
use quietline_crypto::payload::{
    Common, FollowUp, Known, Payload, Person, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::ReplyCode;
use rand::rand_core::UnwrapErr;
use rand::rngs::{StdRng, SysRng};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Reports (first messages of a thread; follow-ups come on top).
    pub reports: usize,
    /// The force's id and display name.
    pub force_id: String,
    /// The force's display name (the `from` of reply copies).
    pub force_name: String,
    /// The reports' days spread evenly over this many days, ending today (UTC).
    pub days: u32,
    /// Share of threads with follow-ups (each gets 1–3), in per mille.
    pub follow_up_per_mille: u32,
    /// Share of cases with a status record (triaged, actioned, closed), per mille.
    pub status_per_mille: u32,
    /// Share of cases with a handler's note, per mille.
    pub note_per_mille: u32,
    /// Share of cases with a copy of a reply sent, per mille.
    pub reply_per_mille: u32,
    /// Share of reports written in Welsh, per mille.
    pub welsh_per_mille: u32,
    /// Seed of the content.
    pub seed: u64,
    /// The key file's passphrase.
    pub passphrase: Zeroizing<String>,
    /// The key file's key-derivation cost (the desk's start pays it once).
    pub kdf: KdfParams,
    /// Handler names written as the records' and audit entries' authors.
    pub handlers: Vec<String>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            reports: 100_000,
            force_id: "bench".into(),
            force_name: "Benchmark Constabulary".into(),
            days: 365,
            follow_up_per_mille: 100,
            status_per_mille: 250,
            note_per_mille: 50,
            reply_per_mille: 20,
            welsh_per_mille: 80,
            seed: 16,
            passphrase: Zeroizing::new("benchmark passphrase".into()),
            kdf: KdfParams::DEFAULT,
            handlers: (1..=8).map(|i| format!("handler{i}")).collect(),
        }
    }
}

/// What was generated, and where.
#[derive(Debug)]
pub struct Generated {
    /// The console home (`config.toml`, `keys/`, `vault.sqlite`).
    pub home: PathBuf,
    /// A file holding the passphrase (mode 0600), beside the home.
    pub passphrase_file: PathBuf,
    /// The force id.
    pub force_id: String,
    /// The key id (hex).
    pub key_id: String,
    /// Reports stored.
    pub reports: usize,
    /// Follow-ups stored.
    pub follow_ups: usize,
    /// Records by kind (`status`, `note`, `reply`).
    pub records: BTreeMap<&'static str, usize>,
    /// Audit entries written.
    pub audit_entries: usize,
    /// A sample of vehicle registrations present in reports (search terms).
    pub registrations: Vec<String>,
    /// A sample of people's names present in reports (search terms).
    pub names: Vec<String>,
    /// Seconds taken.
    pub secs: f64,
    /// Size of the vault file (with its WAL) in bytes.
    pub vault_bytes: u64,
}

/// Why generating failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The directory already holds a home.
    #[error("{0} already exists: give a new directory (the generator never overwrites a vault)")]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("cannot write {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The casework library refused something (home, key file, vault, record).
    #[error("{0}")]
    Casework(String),
    /// A worker thread failed.
    #[error("a sealing thread failed: {0}")]
    Worker(String),
}

fn casework(e: impl std::fmt::Display) -> GenerateError {
    GenerateError::Casework(e.to_string())
}

/// Messages per sealing batch (one vault transaction each).
const BATCH: usize = 2_000;
/// Sealing batches in flight (on worker threads).
const SEALING: usize = 3;
/// Record writes in flight (their sealing overlaps the others' commits).
const RECORD_WRITERS: usize = 4;
/// How many registrations and names the sample keeps.
const SAMPLE: usize = 200;

/// One message to seal: a report or a follow-up in a thread.
struct Plan {
    id: String,
    day: String,
    sent_at: String,
    /// Index of the thread (its reply code's entropy is `codes[thread]`).
    thread: usize,
    welsh: bool,
    /// `None` for a report; the follow-up's text otherwise.
    follow_up: Option<String>,
    /// A report's seed for its content (drawn again on the worker thread).
    content_seed: u64,
}

/// A record to write after the envelopes.
struct PlannedRecord {
    case: String,
    body: RecordBody,
    by: usize,
}

/// Generate into `dir` (created; must not exist yet): `dir/home/` and
/// `dir/passphrase`. Call inside a tokio runtime (multi-threaded or not).
pub async fn generate(dir: &Path, spec: &Spec) -> Result<Generated, GenerateError> {
    let started = Instant::now();
    if dir.exists() {
        return Err(GenerateError::Exists(dir.to_owned()));
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| GenerateError::Io { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let home = Home::locate(Some(dir.join("home"))).map_err(casework)?;
    home.create().map_err(casework)?;

    // The key: generated here, sealed under the passphrase like `init` does.
    let mut sys = UnwrapErr(SysRng);
    let (sk, pk) = generate_keypair(&mut sys);
    let today = time::OffsetDateTime::now_utc().date();
    let key_file = seal_key_file(
        &mut sys,
        &sk,
        &spec.force_id,
        &day_string(today),
        spec.passphrase.as_bytes(),
        spec.kdf,
    )
    .map_err(casework)?;
    drop(sk);
    let key_id = pk.key_id().to_hex();
    write_key_file(&key_path(&home.keys_dir(), pk.key_id()), &key_file).map_err(casework)?;
    home.save_config(&Config {
        force: Some(spec.force_id.clone()),
        force_name: Some(spec.force_name.clone()),
        current_key: Some(key_id.clone()),
        ..Config::default()
    })
    .map_err(casework)?;
    let passphrase_file = dir.join("passphrase");
    quietline_casework::home::write_private_atomic(&passphrase_file, spec.passphrase.as_bytes())
        .map_err(casework)?;

    // The plan: every message in the order the desk learned of it.
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let (plans, codes, planned_records, registrations, names) = plan(&mut rng, spec, today);
    let follow_ups = plans.iter().filter(|p| p.follow_up.is_some()).count();
    let codes = Arc::new(codes);

    let vault = Vault::open(&home.vault_path()).await.map_err(casework)?;
    let actor = |i: usize| Actor {
        os_user: "quietline-bench".into(),
        handler: spec.handlers.get(i % spec.handlers.len().max(1)).cloned(),
    };
    let mut audit_entries = 0;

    // Envelopes: sealed on worker threads, stored in order, batch by batch.
    let mut batches = Vec::new();
    let mut plans = plans.into_iter().peekable();
    while plans.peek().is_some() {
        batches.push(plans.by_ref().take(BATCH).collect::<Vec<_>>());
    }
    let force: Arc<str> = Arc::from(spec.force_id.as_str());
    let pk = Arc::new(pk);
    let mut sealed = futures_util::stream::iter(batches.into_iter().map(|batch| {
        let (codes, force, pk) = (codes.clone(), force.clone(), pk.clone());
        tokio::task::spawn_blocking(move || seal_batch(&force, &pk, &codes, batch))
    }))
    .buffered(SEALING);
    let mut stored = 0usize;
    while let Some(batch) = sealed.next().await {
        let batch = batch.map_err(|e| GenerateError::Worker(e.to_string()))??;
        vault.insert_envelopes(&batch).await.map_err(casework)?;
        stored += batch.len();
        // One audit entry per batch, as a pull writes one per pull.
        audit::record(
            &vault,
            &actor(0),
            "pull",
            None,
            Some(format!(
                "listed={0} new={0} flagged=0 refused=0",
                batch.len()
            )),
        )
        .await
        .map_err(casework)?;
        audit_entries += 1;
    }
    drop(sealed);

    // Records, each with its audit entry, as the console writes them.
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in &planned_records {
        *counts.entry(r.body.kind()).or_default() += 1;
    }
    let at = audit::now_rfc3339();
    let mut writes = futures_util::stream::iter(planned_records.into_iter().map(|r| {
        let (vault, force, pk, at) = (&vault, &force, &pk, &at);
        let by = actor(r.by);
        async move {
            let kind = r.body.kind();
            let record = Record {
                v: records::RECORD_VERSION,
                report: r.case.clone(),
                at: at.clone(),
                by: by.display(),
                body: r.body,
            };
            records::add(vault, force, pk, &record)
                .await
                .map_err(casework)?;
            audit::record(vault, &by, kind, Some(&r.case), None)
                .await
                .map_err(casework)?;
            Ok::<_, GenerateError>(())
        }
    }))
    .buffer_unordered(RECORD_WRITERS);
    while let Some(done) = writes.next().await {
        done?;
        audit_entries += 1;
    }
    drop(writes);
    vault.close().await;
    let vault_bytes = ["vault.sqlite", "vault.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(home.root().join(f)).ok())
        .map(|m| m.len())
        .sum();
    Ok(Generated {
        home: home.root().to_owned(),
        passphrase_file,
        force_id: spec.force_id.clone(),
        key_id,
        reports: stored - follow_ups,
        follow_ups,
        records: counts,
        audit_entries,
        registrations,
        names,
        secs: started.elapsed().as_secs_f64(),
        vault_bytes,
    })
}

/// Draw the whole corpus: messages in the order learned, the number of
/// threads, the records, and samples of registrations and names.
#[allow(clippy::type_complexity)]
fn plan(
    rng: &mut StdRng,
    spec: &Spec,
    today: time::Date,
) -> (
    Vec<Plan>,
    Vec<[u8; 16]>,
    Vec<PlannedRecord>,
    Vec<String>,
    Vec<String>,
) {
    let n = spec.reports;
    let days = f64::from(spec.days.max(1));
    let first = today - time::Duration::days(i64::from(spec.days.max(1)) - 1);
    let id = |rng: &mut StdRng| {
        let mut b = [0u8; 16];
        rng.fill(&mut b);
        hex::encode(b)
    };
    // (position in days since `first`, plan)
    let mut keyed: Vec<(f64, Plan)> = Vec::with_capacity(n + n / 5);
    let mut codes = Vec::with_capacity(n);
    let mut cases: Vec<(String, f64, usize, bool)> = Vec::with_capacity(n);
    for thread in 0..n {
        let key = (thread as f64 + rng.random::<f64>()) * days / n as f64;
        let welsh = rng.random_range(0..1000) < spec.welsh_per_mille;
        let report_id = id(rng);
        let mut entropy = [0u8; 16];
        rng.fill(&mut entropy);
        codes.push(entropy);
        cases.push((report_id.clone(), key, thread, welsh));
        keyed.push((
            key,
            Plan {
                id: report_id,
                day: String::new(),
                sent_at: String::new(),
                thread,
                welsh,
                follow_up: None,
                content_seed: rng.random(),
            },
        ));
        if rng.random_range(0..1000) < spec.follow_up_per_mille {
            for _ in 0..rng.random_range(1..=3) {
                let later = (key + rng.random_range(0.01..20.0)).min(days - 1e-6);
                let text = follow_up_text(rng, welsh);
                keyed.push((
                    later,
                    Plan {
                        id: String::new(),
                        day: String::new(),
                        sent_at: String::new(),
                        thread,
                        welsh,
                        follow_up: Some(text),
                        content_seed: 0,
                    },
                ));
            }
        }
    }
    // Follow-up ids after the reports', so a report's id does not depend on
    // how many follow-ups came before it.
    for (_, p) in keyed.iter_mut().filter(|(_, p)| p.follow_up.is_some()) {
        p.id = id(rng);
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let stamp = |key: f64| {
        let day = first + time::Duration::days(key.floor() as i64);
        let minutes = ((key.fract() * 1440.0) as u32).min(1439);
        (
            day_string(day),
            format!(
                "{}T{:02}:{:02}:00Z",
                day_string(day),
                minutes / 60,
                minutes % 60
            ),
        )
    };
    let plans: Vec<Plan> = keyed
        .into_iter()
        .map(|(key, mut p)| {
            (p.day, p.sent_at) = stamp(key);
            p
        })
        .collect();

    // Records on some cases: older cases are more often closed.
    let mut planned = Vec::new();
    let handlers = spec.handlers.len().max(1);
    for (case, key, thread, welsh) in &cases {
        let age = 1.0 - key / days;
        if rng.random_range(0..1000) < spec.status_per_mille {
            let status = if rng.random_bool(age.clamp(0.05, 0.95)) {
                Status::Closed
            } else if rng.random_bool(0.5) {
                Status::Actioned
            } else {
                Status::Triaged
            };
            planned.push(PlannedRecord {
                case: case.clone(),
                body: RecordBody::Status { status },
                by: rng.random_range(0..handlers),
            });
        }
        if rng.random_range(0..1000) < spec.note_per_mille {
            planned.push(PlannedRecord {
                case: case.clone(),
                body: RecordBody::Note {
                    text: note_text(rng),
                },
                by: rng.random_range(0..handlers),
            });
        }
        if rng.random_range(0..1000) < spec.reply_per_mille {
            let thread_id = ReplyCode::from_entropy(codes[*thread]).derive().thread_id;
            planned.push(PlannedRecord {
                case: case.clone(),
                body: RecordBody::Reply {
                    thread: hex::encode(thread_id),
                    slot: 0,
                    from: spec.force_name.clone(),
                    message: reply_text(rng, *welsh),
                    lang: Some(if *welsh { "cy" } else { "en" }.to_owned()),
                },
                by: rng.random_range(0..handlers),
            });
        }
    }
    // Search terms that are in the vault: from every so many reports' content.
    let (mut registrations, mut names) = (Vec::new(), Vec::new());
    let step = (n / SAMPLE).max(1);
    for p in plans.iter().filter(|p| p.follow_up.is_none()).step_by(step) {
        let body = report_body(p.content_seed, p.welsh);
        registrations.extend(
            body.vehicles
                .iter()
                .map(|v| v.registration.clone())
                .filter(|r| !r.is_empty()),
        );
        names.extend(
            body.people
                .iter()
                .map(|p| p.name.clone())
                .filter(|n| !n.is_empty()),
        );
    }
    registrations.truncate(SAMPLE);
    names.truncate(SAMPLE);
    (plans, codes, planned, registrations, names)
}

fn day_string(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Seal one batch of messages (on a worker thread), as the vault stores them.
fn seal_batch(
    force: &str,
    pk: &PublicKey,
    codes: &[[u8; 16]],
    batch: Vec<Plan>,
) -> Result<Vec<NewEnvelope>, GenerateError> {
    let mut sys = UnwrapErr(SysRng);
    batch
        .into_iter()
        .map(|p| {
            let reply =
                ReplyMaterial::from_secrets(&ReplyCode::from_entropy(codes[p.thread]).derive());
            let common = Common {
                v: 1,
                sent_at: p.sent_at,
                lang: if p.welsh { "cy" } else { "en" }.into(),
            };
            let payload = match p.follow_up {
                Some(message) => Payload::FollowUp(FollowUp {
                    common,
                    message,
                    attachments: vec![],
                    reply,
                    transfer: None,
                }),
                None => Payload::Report(Report {
                    common,
                    report: report_body(p.content_seed, p.welsh),
                    attachments: vec![],
                    reply,
                    transfer: None,
                }),
            };
            let json = Zeroizing::new(payload.to_json());
            let envelope = quietline_crypto::seal::seal_report(&mut sys, force, pk, &json)
                .map_err(casework)?;
            let sha256: [u8; 32] = Sha256::digest(&envelope).into();
            Ok(NewEnvelope {
                id: p.id,
                day: p.day,
                key_id: pk.key_id().to_hex(),
                envelope,
                sha256,
                flag: None,
            })
        })
        .collect()
}

// ------------------------------------------------------------------ content

const CATEGORIES: &[(&str, u32)] = &[
    ("drugs", 30),
    ("violence", 10),
    ("weapons", 5),
    ("exploitation", 6),
    ("fraud", 12),
    ("theft", 14),
    ("terrorism", 1),
    ("corruption", 2),
    ("driving", 10),
    ("other", 10),
];
const HOW_KNOWN: &[(&str, u32)] = &[
    ("saw", 45),
    ("heard", 15),
    ("told", 20),
    ("involved", 8),
    ("other", 7),
    ("prefer-not-to-say", 5),
];
const FIRST: &[&str] = &[
    "Dave", "Sarah", "Mohammed", "Emma", "Jack", "Olivia", "Liam", "Chloe", "Ryan", "Megan",
    "Connor", "Aisha", "Tom", "Jade", "Kyle", "Gareth", "Rhys", "Siân", "Dylan", "Ffion", "Callum",
    "Leah", "Jamal", "Kerry", "Lee", "Natalie", "Darren", "Stacey", "Wayne", "Bethan",
];
const LAST: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Johnson",
    "Lewis",
    "Walker",
    "Robinson",
    "Wood",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wright",
    "Khan",
    "Ali",
    "Hussain",
    "Morgan",
    "Price",
    "Griffiths",
];
const NICK: &[&str] = &[
    "Tall Dave",
    "Little J",
    "Scouse",
    "Big Mick",
    "the lad from the flats",
    "Gaz",
    "K-Dog",
    "Ginger",
    "the blonde woman",
    "Taff",
];
const PERSON_DESC: &[&str] = &[
    "about 30, red cap",
    "late teens, grey hoodie, always on a black bike",
    "white male, 40s, shaved head, tattoo on neck",
    "short, dark hair, Welsh accent",
    "drives the car below",
    "works at the car wash on the corner",
    "woman in her 50s, walks a staffie",
    "young lad, maybe 15, school uniform",
    "tall, beard, wears a North Face jacket",
    "",
];
const MAKES: &[&str] = &[
    "Ford Focus",
    "Vauxhall Corsa",
    "BMW 3 Series",
    "Audi A3",
    "VW Golf",
    "Mercedes C-Class",
    "Nissan Qashqai",
    "Toyota Yaris",
    "Range Rover Sport",
    "Ford Transit",
    "Peugeot 208",
    "Kia Sportage",
    "Honda Civic",
    "Mini Cooper",
    "Seat Leon",
];
const COLOURS: &[&str] = &[
    "silver",
    "black",
    "white",
    "grey",
    "blue",
    "red",
    "dark green",
    "gold",
];
const VEHICLE_DESC: &[&str] = &[
    "dent in the rear door",
    "tinted windows",
    "private plate",
    "roof bars",
    "loud exhaust",
    "parks on the pavement",
    "",
    "",
];
const STREETS: &[&str] = &[
    "Mill Lane",
    "High Street",
    "Station Road",
    "Church Street",
    "Victoria Road",
    "Park Avenue",
    "Heol y Frenhines",
    "Stryd Fawr",
    "Queen Street",
    "Albert Road",
    "Chapel Street",
    "Greenfield Close",
    "Manor Way",
    "the retail park",
    "Castle Street",
    "Bridge Street",
];
const TOWNS: &[&str] = &[
    "Exampleton",
    "Northbridge",
    "Llanfair",
    "Aberdyfi",
    "Westhaven",
    "Caerwen",
    "Oakford",
    "Port Talbert",
    "Kingsmoor",
    "Bryncoch",
];
const PLACES: &[&str] = &[
    "Behind the Co-op on",
    "Outside number {n},",
    "The car park off",
    "The alley between the chip shop and the bookies on",
    "Flat {n}, Tower Court,",
    "The bus shelter on",
    "The park at the end of",
    "The lock-up garages behind",
];
const DETAILS_EN: &[&str] = &[
    "Cars stop outside most nights and leave within minutes; packages change hands through the window.",
    "There is a lot of coming and going at all hours, different people each time, and the smell of cannabis is strong on the landing.",
    "I saw him hand something small to a teenager and take cash. It happens after school most days.",
    "Someone has been taking parcels from doorsteps on our street, usually mid-morning when people are at work.",
    "A man keeps calling older people on the estate saying he is from the bank and asking for their card details.",
    "He drives far too fast past the primary school and has nearly hit children twice this week.",
    "I think the girl staying there is not free to leave; she never goes out alone and looks frightened.",
    "They keep a knife in the car and have shown it to younger lads to scare them.",
    "Shouting and banging from the flat upstairs, then a woman crying; it has happened several times.",
    "Vans arrive late at night and unload boxes into the garage; the boxes look like power tools.",
    "Somebody at the council office is taking money to move people up the housing list.",
    "I don't want to say how I know, but the shed at the back is used to store stolen bikes.",
];
const DETAILS_CY: &[&str] = &[
    "Mae ceir yn stopio tu allan bron bob nos ac yn gadael o fewn munudau; mae pecynnau'n newid dwylo drwy'r ffenest.",
    "Mae llawer o fynd a dod ar bob awr, pobl wahanol bob tro, ac mae arogl canabis yn gryf ar y landin.",
    "Gwelais ef yn rhoi rhywbeth bach i fachgen ifanc a chymryd arian. Mae'n digwydd ar ôl ysgol bron bob dydd.",
    "Mae rhywun wedi bod yn dwyn parseli o garreg y drws ar ein stryd, fel arfer ganol bore.",
    "Mae e'n gyrru'n llawer rhy gyflym heibio'r ysgol gynradd ac mae bron â tharo plant ddwywaith yr wythnos hon.",
    "Gweiddi a tharo o'r fflat uwchben, wedyn menyw yn crio; mae wedi digwydd sawl gwaith.",
];
const WHEN_DESC: &[&str] = &[
    "most Friday nights",
    "every evening after 10",
    "since the summer",
    "weekday mornings",
    "only once, that I know of",
    "on and off for months",
    "",
];
const HOW_DETAILS: &[&str] = &[
    "from my window",
    "I live opposite",
    "my neighbour told me",
    "I walk my dog past there every night",
    "I used to know them",
    "",
];
const FOLLOW_EN: &[&str] = &[
    "They were back again last night, same car, around half ten.",
    "I forgot to say: there is a second car now, a white van.",
    "It has got worse since I reported it. Please do something.",
    "The man with the red cap has moved into number 16.",
    "Thank you for your reply. I think it happens mostly on Fridays and Saturdays.",
    "I have seen the registration again, I am sure of it now.",
];
const FOLLOW_CY: &[&str] = &[
    "Roedden nhw yn ôl eto neithiwr, yr un car, tua hanner awr wedi deg.",
    "Anghofiais ddweud: mae ail gar yno nawr, fan wen.",
    "Diolch am eich ateb. Dw i'n meddwl ei fod yn digwydd ar nos Wener a nos Sadwrn yn bennaf.",
];
const NOTES: &[&str] = &[
    "Passed to the neighbourhood team for the area.",
    "Registration checked: matches the make and colour given. Linked to an existing intelligence log.",
    "Same address as two earlier reports this month.",
    "Graded 2/B/1. Shared with the drugs team.",
    "Low risk; no further action unless more comes in.",
    "Possible safeguarding concern: referred to the MASH.",
    "Duplicate of an earlier report from the same reporter (same thread).",
];
const REPLIES_EN: &[&str] = &[
    "Thank you for your report. Can you tell us roughly what time the cars arrive?",
    "Thank you. We have passed this to the local team. If anything changes, please send a follow-up.",
    "Thank you for getting in touch. Do you know which flat the visitors go to?",
];
const REPLIES_CY: &[&str] = &[
    "Diolch am eich adroddiad. Allwch chi ddweud wrthym tua faint o'r gloch mae'r ceir yn cyrraedd?",
    "Diolch. Rydym wedi trosglwyddo hyn i'r tîm lleol.",
];

fn weighted<'a>(rng: &mut StdRng, table: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in table {
        if x < *w {
            return v;
        }
        x -= w;
    }
    table[0].0
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or("")
}

/// A UK-style registration: two letters, two digits, three letters.
fn registration(rng: &mut StdRng) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";
    let mut l = || char::from(*LETTERS.choose(rng).unwrap_or(&b'A'));
    let (a, b) = (l(), l());
    let (c, d, e) = (l(), l(), l());
    format!("{a}{b}{:02} {c}{d}{e}", rng.random_range(2..75))
}

/// A report's content, from its own seed (so a worker thread and the plan
/// draw the same one).
fn report_body(seed: u64, welsh: bool) -> ReportBody {
    let rng = &mut StdRng::seed_from_u64(seed);
    let details_table = if welsh { DETAILS_CY } else { DETAILS_EN };
    // Most reports are a few sentences; some run to pages.
    let sentences = match rng.random_range(0..100) {
        0..60 => rng.random_range(1..4),
        60..90 => rng.random_range(4..12),
        _ => rng.random_range(12..45),
    };
    let mut details = String::new();
    for i in 0..sentences {
        if i > 0 {
            details.push(' ');
        }
        details.push_str(pick(rng, details_table));
    }
    let place = pick(rng, PLACES).replace("{n}", &rng.random_range(1..200).to_string());
    let location = if rng.random_bool(0.85) {
        Known {
            known: true,
            description: format!("{place} {}, {}", pick(rng, STREETS), pick(rng, TOWNS)),
        }
    } else {
        Known {
            known: false,
            description: String::new(),
        }
    };
    let when = if rng.random_bool(0.7) {
        When {
            known: true,
            date: Some(format!(
                "2026-{:02}-{:02}",
                rng.random_range(1..=12),
                rng.random_range(1..=28)
            )),
            time: rng.random_bool(0.6).then(|| {
                format!(
                    "{:02}:{:02}",
                    rng.random_range(0..24),
                    rng.random_range(0..60)
                )
            }),
            ongoing: rng.random_bool(0.4),
            ongoing_unknown: false,
            description: pick(rng, WHEN_DESC).into(),
        }
    } else {
        When {
            known: false,
            date: None,
            time: None,
            ongoing: false,
            ongoing_unknown: false,
            description: String::new(),
        }
    };
    let people = (0..match rng.random_range(0..10) {
        0..4 => 0,
        4..8 => 1,
        8 => 2,
        _ => 3,
    })
        .map(|_| Person {
            name: match rng.random_range(0..10) {
                0..5 => format!("{} {}", pick(rng, FIRST), pick(rng, LAST)),
                5..7 => pick(rng, FIRST).into(),
                7..9 => pick(rng, NICK).into(),
                _ => String::new(),
            },
            description: pick(rng, PERSON_DESC).into(),
        })
        .collect();
    let vehicles = (0..match rng.random_range(0..10) {
        0..6 => 0,
        6..9 => 1,
        _ => 2,
    })
        .map(|_| Vehicle {
            registration: if rng.random_bool(0.8) {
                registration(rng)
            } else {
                String::new()
            },
            make_model: pick(rng, MAKES).into(),
            colour: pick(rng, COLOURS).into(),
            description: pick(rng, VEHICLE_DESC).into(),
        })
        .collect();
    ReportBody {
        category: weighted(rng, CATEGORIES).into(),
        details,
        location,
        when,
        people,
        vehicles,
        how_known: weighted(rng, HOW_KNOWN).into(),
        how_known_details: pick(rng, HOW_DETAILS).into(),
    }
}

fn follow_up_text(rng: &mut StdRng, welsh: bool) -> String {
    pick(rng, if welsh { FOLLOW_CY } else { FOLLOW_EN }).into()
}

fn note_text(rng: &mut StdRng) -> String {
    pick(rng, NOTES).into()
}

fn reply_text(rng: &mut StdRng, welsh: bool) -> String {
    pick(rng, if welsh { REPLIES_CY } else { REPLIES_EN }).into()
}
