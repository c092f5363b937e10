//! Settings for `quietline serve` and the admin commands.
//!
//! It owns where each setting comes from — flags, then `QUIETLINE_*` environment
//! variables (both through clap), then an optional TOML file (`--config`), then
//! the defaults — and checking the values before anything starts; and the
//! running server's settings, [`ServerSettings`], with their defaults. It does
//! not open the database or bind a socket, and imports neither the HTTP layer
//! nor the server's lifecycle (both read it).
//!
//! The TOML file uses the same names as the flags, in snake_case:
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = "/var/lib/quietline"
//! database_url = "postgres://quietline@db.internal/quietline"
//! retention_days = 90
//! max_body = 65687
//! max_json_body = 16384
//! request_timeout_secs = 30
//! onion_address = "…56 base32 characters….onion"
//! access_log = true
//! exit_url = "https://www.bbc.co.uk/weather"
//! keylog_origin = "report.example.police.uk/keylog"
//! pow_difficulty = 21
//! pow_max_difficulty = 29
//! pow_expected_rate = 60
//! attachments_max_count = 10
//! attachments_max_bytes = 250000000
//! attachments_unreferenced_days = 14   # read by `purge` too
//! ```
//!
//! Unknown keys are refused, so a misspelt setting cannot silently fall back to
//! its default.

use std::fs::DirBuilder;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quietline_crypto::envelope::{MAX_ENVELOPE_LEN, MIN_ENVELOPE_LEN};
use serde::Deserialize;

use crate::day::Clock;
use crate::pow::PowSettings;

/// Default listen address: loopback, so a fresh install is not on the network
/// until the operator puts a reverse proxy or onion service in front of it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory (relative to the working directory).
pub const DEFAULT_DATA_DIR: &str = "./quietline-data";
/// Default retention of reports and reply slots, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Default limit for JSON request bodies (`POST /api/v1/slots/fetch`): 32
/// addresses of 64 hex digits need about 2.3 KiB; this leaves room for whitespace.
pub const DEFAULT_MAX_JSON_BODY: usize = 16 * 1024;
/// Where "Exit this page" goes by default (`GET /exit` redirects there): a
/// neutral site, as GOV.UK's services do, that says nothing about this one.
pub const DEFAULT_EXIT_URL: &str = "https://www.bbc.co.uk/weather";
/// The key log's origin (its checkpoints' first line and its key's name,
/// crypto/FORMAT.md#checkpoints) when none is set: a placeholder under the
/// reserved `.invalid` domain, so a log whose operator never named it says so.
/// Set it once, before the first start, to the service's own host and a path.
pub const DEFAULT_KEYLOG_ORIGIN: &str = "quietline.invalid/keylog";
/// Default whole-request timeout, in seconds.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
/// Longest retention accepted (100 years): anything larger is a typo.
const MAX_RETENTION_DAYS: u32 = 36_500;
/// How often `serve` deletes reports and slots past retention (and settles
/// closed days). Rows carry their own random fuzz, so the schedule reveals
/// nothing about arrival times.
pub const DEFAULT_PURGE_INTERVAL: Duration = Duration::from_secs(6 * 60 * 60);

/// The running server's settings (resolved by [`resolve_serve`]; tests build
/// them from [`Default`]). They live here, below the HTTP layer and the
/// server's lifecycle, so that both read them and this module imports neither.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest envelope body accepted (`POST /reports`, `PUT /slots/…`).
    pub max_body: usize,
    /// Largest JSON body accepted (`POST /slots/fetch`).
    pub max_json_body: usize,
    /// Whole-request timeout (reading the body included).
    pub request_timeout: Duration,
    /// Onion address for the `Onion-Location` header, if any.
    pub onion_address: Option<String>,
    /// Whether to write the per-request access line.
    pub access_log: bool,
    /// Where "Exit this page" sends the reporter (`GET /exit` redirects there).
    pub exit_url: String,
    /// The key log's origin: the name its checkpoints and verifier key carry
    /// (crypto/FORMAT.md#checkpoints).
    pub keylog_origin: String,
    /// Retention for the background purge.
    pub retention_days: u32,
    /// Interval of the background purge; `None` runs none (tests, or an
    /// operator running `quietline purge` from a timer instead).
    pub purge_interval: Option<Duration>,
    /// Proof of work on submissions (crypto/FORMAT.md#proof-of-work).
    pub pow: PowSettings,
    /// How often the proof-of-work controller samples the intake's pressure
    /// ([`crate::pow::CONTROL_INTERVAL`]; shorter in tests).
    pub pow_control_interval: Duration,
    /// The clock: the day of receipt, retention and challenge expiry read it
    /// (the system's; tests set one so nothing depends on when they run).
    pub clock: Clock,
    /// Attachments: limits and how long an unfetched blob is kept.
    pub attachments: AttachmentSettings,
}

/// Attachment limits (crypto/FORMAT.md#attachments, #blobs-on-the-server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentSettings {
    /// Most attachments per report (the page's limit; 0 turns attachments off).
    pub max_count: u32,
    /// Most octets of attachments per report, before padding (the page's
    /// limit); the server refuses a blob larger than this size's bucket.
    pub max_total_bytes: u64,
    /// Days a complete blob no handler has fetched is kept.
    pub unreferenced_days: u32,
}

/// Default most attachments per report.
pub const DEFAULT_ATTACHMENTS_MAX_COUNT: u32 = 10;
/// Default most octets of attachments per report (250 MB).
pub const DEFAULT_ATTACHMENTS_MAX_BYTES: u64 = 250_000_000;
/// Default days an unfetched blob is kept.
pub const DEFAULT_ATTACHMENTS_UNREFERENCED_DAYS: u32 = 14;

impl Default for AttachmentSettings {
    fn default() -> Self {
        Self {
            max_count: DEFAULT_ATTACHMENTS_MAX_COUNT,
            max_total_bytes: DEFAULT_ATTACHMENTS_MAX_BYTES,
            unreferenced_days: DEFAULT_ATTACHMENTS_UNREFERENCED_DAYS,
        }
    }
}

impl AttachmentSettings {
    /// The largest sealed blob accepted: the sealed length of the bucket of
    /// `max_total_bytes`.
    pub fn max_blob_len(&self) -> u64 {
        use quietline_crypto::stream;
        stream::bucket_for(self.max_total_bytes.min(stream::MAX_BUCKET))
            .map(stream::sealed_len)
            .unwrap_or(0)
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            max_body: MAX_ENVELOPE_LEN,
            max_json_body: DEFAULT_MAX_JSON_BODY,
            request_timeout: Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS),
            onion_address: None,
            access_log: true,
            exit_url: DEFAULT_EXIT_URL.to_owned(),
            keylog_origin: DEFAULT_KEYLOG_ORIGIN.to_owned(),
            retention_days: DEFAULT_RETENTION_DAYS,
            purge_interval: None,
            pow: PowSettings::default(),
            pow_control_interval: crate::pow::CONTROL_INTERVAL,
            clock: Clock::system(),
            attachments: AttachmentSettings::default(),
        }
    }
}

/// Settings every command takes (serve and the admin commands).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// TOML configuration file (lower precedence than flags and environment).
    #[arg(long, env = "QUIETLINE_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database, demo files) [default: ./quietline-data].
    #[arg(long, env = "QUIETLINE_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite://PATH` or `postgres://…` [default: sqlite://<data-dir>/quietline.sqlite].
    // hide_env_values: the URL may carry a password, which --help must not print.
    #[arg(
        long,
        env = "QUIETLINE_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// Days reports and reply slots are kept (each row also gets a few days of random fuzz) [default: 90].
    #[arg(
        long,
        env = "QUIETLINE_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub retention_days: Option<u32>,
}

/// Settings only `serve` takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed on stdout) [default: 127.0.0.1:8080].
    #[arg(long, env = "QUIETLINE_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Largest envelope body accepted, in bytes [default and maximum: the largest envelope].
    #[arg(long, env = "QUIETLINE_MAX_BODY", value_name = "BYTES")]
    pub max_body: Option<usize>,
    /// Largest JSON request body accepted, in bytes [default: 16384].
    #[arg(long, env = "QUIETLINE_MAX_JSON_BODY", value_name = "BYTES")]
    pub max_json_body: Option<usize>,
    /// Whole-request timeout in seconds [default: 30].
    #[arg(long, env = "QUIETLINE_REQUEST_TIMEOUT_SECS", value_name = "SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Onion service address (`<56 base32 characters>.onion`); adds an `Onion-Location` header.
    #[arg(long, env = "QUIETLINE_ONION_ADDRESS", value_name = "HOST")]
    pub onion_address: Option<String>,
    /// Turn off the per-request log line (method, route template, status, latency).
    #[arg(long, env = "QUIETLINE_NO_ACCESS_LOG")]
    pub no_access_log: bool,
    /// Where "Exit this page" sends the reporter: a neutral https:// site [default: https://www.bbc.co.uk/weather].
    #[arg(long, env = "QUIETLINE_EXIT_URL", value_name = "URL")]
    pub exit_url: Option<String>,
    /// The key log's name in its signed checkpoints and verifier key: this service's host and a path, set once before the first start (changing it changes the log key's id, and every watcher raises an alarm) [default: quietline.invalid/keylog].
    #[arg(long, env = "QUIETLINE_KEYLOG_ORIGIN", value_name = "ORIGIN")]
    pub keylog_origin: Option<String>,
    /// Proof-of-work floor in leading zero bits (1–32); 0 turns proof of work off, for local development only [default: 21].
    #[arg(long, env = "QUIETLINE_POW_DIFFICULTY", value_name = "BITS")]
    pub pow_difficulty: Option<u8>,
    /// Proof-of-work ceiling the difficulty may rise to under pressure or above the expected rate (floor–32) [default: 29, or the floor if higher].
    #[arg(long, env = "QUIETLINE_POW_MAX_DIFFICULTY", value_name = "BITS")]
    pub pow_max_difficulty: Option<u8>,
    /// Expected peak intake of this instance, in reports per minute; above it the proof-of-work difficulty rises one bit per doubling of the rate (10–1000000) [default: 60].
    #[arg(long, env = "QUIETLINE_POW_EXPECTED_RATE", value_name = "PER_MINUTE")]
    pub pow_expected_rate: Option<u32>,
    /// Most attachments a report may carry (0–10; 0 turns attachments off) [default: 10].
    #[arg(long, env = "QUIETLINE_ATTACHMENTS_MAX_COUNT", value_name = "N")]
    pub attachments_max_count: Option<u32>,
    /// Most bytes of attachments per report (65536–1073741824); the largest blob accepted is this size's padding bucket [default: 250000000].
    #[arg(long, env = "QUIETLINE_ATTACHMENTS_MAX_BYTES", value_name = "BYTES")]
    pub attachments_max_bytes: Option<u64>,
    /// Days a complete attachment no handler has fetched is kept before it is deleted (1–365) [default: 14].
    #[arg(
        long,
        env = "QUIETLINE_ATTACHMENTS_UNREFERENCED_DAYS",
        value_name = "DAYS"
    )]
    pub attachments_unreferenced_days: Option<u32>,
    /// Also create a demo force with a fresh key pair and print the console commands.
    #[arg(long)]
    pub demo: bool,
}

/// The TOML file: every setting optional; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    retention_days: Option<u32>,
    max_body: Option<usize>,
    max_json_body: Option<usize>,
    request_timeout_secs: Option<u64>,
    onion_address: Option<String>,
    access_log: Option<bool>,
    exit_url: Option<String>,
    keylog_origin: Option<String>,
    pow_difficulty: Option<u8>,
    pow_max_difficulty: Option<u8>,
    pow_expected_rate: Option<u32>,
    attachments_max_count: Option<u32>,
    attachments_max_bytes: Option<u64>,
    attachments_unreferenced_days: Option<u32>,
}

/// A setting that failed its check. Messages name the setting and say what is
/// accepted; they may quote the operator's own value, never request data.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown key or a wrong type.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's explanation (names the key and the line).
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("invalid {setting}: {message}")]
    Invalid {
        /// The setting's flag name.
        setting: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn invalid(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        message: message.into(),
    }
}

/// Resolved settings every command needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL (may contain a password: print it only through [`redact_database_url`]).
    pub database_url: String,
    /// Whether the database URL is the default SQLite file inside the data dir.
    pub database_is_default: bool,
    /// Retention in days.
    pub retention_days: u32,
}

/// Resolved settings for `serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The common settings.
    pub common: Settings,
    /// Listen address.
    pub listen: SocketAddr,
    /// The HTTP server's settings.
    pub server: ServerSettings,
    /// Whether to set up the demo force.
    pub demo: bool,
}

fn load_file(path: Option<&Path>) -> Result<FileConfig, ConfigError> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

fn resolve_common(args: &CommonArgs, file: &FileConfig) -> Result<Settings, ConfigError> {
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    if data_dir.as_os_str().is_empty() {
        return Err(invalid("--data-dir", "must not be empty"));
    }
    let explicit_url = args
        .database_url
        .clone()
        .or_else(|| file.database_url.clone());
    let database_is_default = explicit_url.is_none();
    let database_url = match explicit_url {
        Some(url) => url,
        None => default_database_url(&data_dir)?,
    };
    check_database_url(&database_url)?;
    let retention_days = args
        .retention_days
        .or(file.retention_days)
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    if !(1..=MAX_RETENTION_DAYS).contains(&retention_days) {
        return Err(invalid(
            "--retention-days",
            format!("{retention_days} is out of range; use 1 to {MAX_RETENTION_DAYS} days"),
        ));
    }
    Ok(Settings {
        data_dir,
        database_url,
        database_is_default,
        retention_days,
    })
}

/// `sqlite://<data-dir>/quietline.sqlite`.
fn default_database_url(data_dir: &Path) -> Result<String, ConfigError> {
    let path = data_dir.join("quietline.sqlite");
    let Some(path) = path.to_str() else {
        return Err(invalid(
            "--data-dir",
            "the path is not valid UTF-8; choose another directory or pass --database-url",
        ));
    };
    // sqlx percent-decodes the path and reads '?' as the start of options.
    let path = path
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    Ok(format!("sqlite://{path}"))
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    if database_kind(url).is_none() {
        return Err(invalid(
            "--database-url",
            "use sqlite://PATH or postgres://USER@HOST/DATABASE",
        ));
    }
    Ok(())
}

/// Which database a URL names: `"sqlite"` or `"postgres"`, `None` for neither.
pub fn database_kind(url: &str) -> Option<&'static str> {
    if url.starts_with("sqlite://") {
        Some("sqlite")
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some("postgres")
    } else {
        None
    }
}

/// The database URL fit for a log line: no user name, no password, no query
/// string (PostgreSQL URLs may carry `?password=`).
pub fn redact_database_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            // Userinfo ends at the last '@' before the path.
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let marker = if host.len() != authority.len() {
                "***@"
            } else {
                ""
            };
            format!("{scheme}://{marker}{host}{path}")
        }
        None => without_query.to_owned(),
    }
}

/// Resolve the settings for an admin command.
pub fn resolve_admin(args: &CommonArgs) -> Result<Settings, ConfigError> {
    let file = load_file(args.config.as_deref())?;
    resolve_common(args, &file)
}

/// The listen address from `QUIETLINE_LISTEN`, then the config file, then the
/// default: where `quietline pow status` finds the local server.
pub fn resolve_listen(common: &CommonArgs) -> Result<SocketAddr, ConfigError> {
    let file = load_file(common.config.as_deref())?;
    let text = std::env::var("QUIETLINE_LISTEN")
        .ok()
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    text.parse()
        .map_err(|_| invalid("listen", "use ADDRESS:PORT, e.g. 127.0.0.1:8080"))
}

/// The key log's origin for `quietline keylog show`: the flag (or
/// `QUIETLINE_KEYLOG_ORIGIN`), then the config file, then the default — as
/// `serve` resolves it, so both name the log alike.
pub fn resolve_keylog_origin(
    common: &CommonArgs,
    flag: Option<String>,
) -> Result<String, ConfigError> {
    let file = load_file(common.config.as_deref())?;
    keylog_origin(flag, &file)
}

fn keylog_origin(flag: Option<String>, file: &FileConfig) -> Result<String, ConfigError> {
    let origin = flag
        .or(file.keylog_origin.clone())
        .unwrap_or_else(|| DEFAULT_KEYLOG_ORIGIN.to_owned());
    if !quietline_crypto::keylog::is_valid_origin(&origin) {
        return Err(invalid(
            "--keylog-origin",
            "use this service's host and a path, without spaces or '+', e.g. report.example.police.uk/keylog",
        ));
    }
    Ok(origin)
}

/// Resolve the settings for `serve`.
pub fn resolve_serve(common: &CommonArgs, serve: &ServeArgs) -> Result<ServeConfig, ConfigError> {
    let file = load_file(common.config.as_deref())?;
    let settings = resolve_common(common, &file)?;

    let listen = match serve.listen {
        Some(addr) => addr,
        None => file
            .listen
            .as_deref()
            .unwrap_or(DEFAULT_LISTEN)
            .parse()
            .map_err(|_| invalid("listen", "use ADDRESS:PORT, e.g. 127.0.0.1:8080"))?,
    };

    let max_body = serve.max_body.or(file.max_body).unwrap_or(MAX_ENVELOPE_LEN);
    if !(MIN_ENVELOPE_LEN..=MAX_ENVELOPE_LEN).contains(&max_body) {
        return Err(invalid(
            "--max-body",
            format!(
                "{max_body} bytes is out of range; envelopes are {MIN_ENVELOPE_LEN} to {MAX_ENVELOPE_LEN} bytes"
            ),
        ));
    }
    let max_json_body = serve
        .max_json_body
        .or(file.max_json_body)
        .unwrap_or(DEFAULT_MAX_JSON_BODY);
    if !(4096..=1024 * 1024).contains(&max_json_body) {
        return Err(invalid(
            "--max-json-body",
            format!("{max_json_body} bytes is out of range; use 4096 to 1048576"),
        ));
    }
    let timeout = serve
        .request_timeout_secs
        .or(file.request_timeout_secs)
        .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS);
    if !(1..=3600).contains(&timeout) {
        return Err(invalid(
            "--request-timeout-secs",
            format!("{timeout} is out of range; use 1 to 3600 seconds"),
        ));
    }
    let onion_address = match serve.onion_address.clone().or(file.onion_address.clone()) {
        Some(a) => Some(normalise_onion(&a)?),
        None => None,
    };
    let access_log = !serve.no_access_log && file.access_log.unwrap_or(true);
    let exit_url = serve
        .exit_url
        .clone()
        .or(file.exit_url.clone())
        .unwrap_or_else(|| DEFAULT_EXIT_URL.to_owned());
    check_exit_url(&exit_url)?;
    let keylog_origin = keylog_origin(serve.keylog_origin.clone(), &file)?;
    let pow = resolve_pow(serve, &file)?;
    let attachments = resolve_attachments(serve, &file)?;

    Ok(ServeConfig {
        server: ServerSettings {
            max_body,
            max_json_body,
            request_timeout: Duration::from_secs(timeout),
            onion_address,
            access_log,
            exit_url,
            keylog_origin,
            retention_days: settings.retention_days,
            purge_interval: Some(DEFAULT_PURGE_INTERVAL),
            pow,
            pow_control_interval: crate::pow::CONTROL_INTERVAL,
            clock: Clock::system(),
            attachments,
        },
        common: settings,
        listen,
        demo: serve.demo,
    })
}

/// The attachment limits: flags → environment → TOML → defaults, each in range.
fn resolve_attachments(
    serve: &ServeArgs,
    file: &FileConfig,
) -> Result<AttachmentSettings, ConfigError> {
    let max_count = serve
        .attachments_max_count
        .or(file.attachments_max_count)
        .unwrap_or(DEFAULT_ATTACHMENTS_MAX_COUNT);
    if max_count > 10 {
        return Err(invalid(
            "--attachments-max-count",
            format!("{max_count} is out of range; use 0 (no attachments) to 10"),
        ));
    }
    let max_total_bytes = serve
        .attachments_max_bytes
        .or(file.attachments_max_bytes)
        .unwrap_or(DEFAULT_ATTACHMENTS_MAX_BYTES);
    if !(65_536..=1 << 30).contains(&max_total_bytes) {
        return Err(invalid(
            "--attachments-max-bytes",
            format!("{max_total_bytes} is out of range; use 65536 to 1073741824 bytes"),
        ));
    }
    let unreferenced_days = resolve_unreferenced_days(serve.attachments_unreferenced_days, file)?;
    Ok(AttachmentSettings {
        max_count,
        max_total_bytes,
        unreferenced_days,
    })
}

/// Days an unfetched attachment is kept: the flag (or its environment
/// variable), then TOML, then the default; `serve` and `purge` read it alike,
/// so a purge run by hand deletes what the server's own purge would.
fn resolve_unreferenced_days(flag: Option<u32>, file: &FileConfig) -> Result<u32, ConfigError> {
    let days = flag
        .or(file.attachments_unreferenced_days)
        .unwrap_or(DEFAULT_ATTACHMENTS_UNREFERENCED_DAYS);
    if !(1..=365).contains(&days) {
        return Err(invalid(
            "--attachments-unreferenced-days",
            format!("{days} is out of range; use 1 to 365 days"),
        ));
    }
    Ok(days)
}

/// Settings only `purge` takes, besides the common ones.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PurgeArgs {
    /// Days a complete attachment no handler has fetched is kept before it is deleted (1–365), as for `serve` [default: 14].
    #[arg(
        long,
        env = "QUIETLINE_ATTACHMENTS_UNREFERENCED_DAYS",
        value_name = "DAYS"
    )]
    pub attachments_unreferenced_days: Option<u32>,
}

/// Resolved settings for `purge`.
#[derive(Debug, Clone)]
pub struct PurgeConfig {
    /// The common settings (retention among them).
    pub common: Settings,
    /// Days a complete attachment no handler fetched is kept
    /// (crypto/FORMAT.md#blobs-on-the-server).
    pub unreferenced_days: u32,
}

/// Resolve the settings for `purge`: the common ones, and the attachments'
/// unreferenced period from the same places `serve` reads it.
pub fn resolve_purge(common: &CommonArgs, args: &PurgeArgs) -> Result<PurgeConfig, ConfigError> {
    let file = load_file(common.config.as_deref())?;
    Ok(PurgeConfig {
        common: resolve_common(common, &file)?,
        unreferenced_days: resolve_unreferenced_days(args.attachments_unreferenced_days, &file)?,
    })
}

/// The exit URL must be an absolute `https://` (or `http://`) address that
/// fits a `Location` header: "Exit this page" must leave for another site.
fn check_exit_url(url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    if host.is_none_or(str::is_empty)
        || url.len() > 2000
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(invalid(
            "--exit-url",
            "use an absolute https:// address of a neutral site (ASCII, no spaces), e.g. https://www.bbc.co.uk/weather",
        ));
    }
    Ok(())
}

fn resolve_pow(serve: &ServeArgs, file: &FileConfig) -> Result<PowSettings, ConfigError> {
    let max_bits = quietline_crypto::pow::MAX_DIFFICULTY;
    let floor = serve
        .pow_difficulty
        .or(file.pow_difficulty)
        .unwrap_or(crate::pow::DEFAULT_FLOOR);
    if floor > max_bits {
        return Err(invalid(
            "--pow-difficulty",
            format!(
                "{floor} bits is out of range; use 1 to {max_bits} (each bit doubles a sender's work), or 0 to turn proof of work off"
            ),
        ));
    }
    if floor == 0 {
        return Ok(PowSettings::off());
    }
    let explicit_max = serve.pow_max_difficulty.or(file.pow_max_difficulty);
    let max = explicit_max.unwrap_or(crate::pow::DEFAULT_MAX.max(floor));
    if !(floor..=max_bits).contains(&max) {
        return Err(invalid(
            "--pow-max-difficulty",
            format!(
                "{max} bits is out of range; use the floor (--pow-difficulty {floor}) up to {max_bits}"
            ),
        ));
    }
    let expected_rate = serve
        .pow_expected_rate
        .or(file.pow_expected_rate)
        .unwrap_or(crate::pow::DEFAULT_EXPECTED_RATE);
    if !(MIN_EXPECTED_RATE..=MAX_EXPECTED_RATE).contains(&expected_rate) {
        return Err(invalid(
            "--pow-expected-rate",
            format!(
                "{expected_rate} reports per minute is out of range; use {MIN_EXPECTED_RATE} to {MAX_EXPECTED_RATE}: this instance's expected peak intake (with several instances behind a load balancer, the service's peak divided by their number)"
            ),
        ));
    }
    Ok(PowSettings {
        floor,
        max,
        expected_rate,
    })
}

/// Least `--pow-expected-rate`: the rate is measured over 30 s, so below
/// this a handful of reports together would raise the difficulty, and the
/// difficulty (which anyone can read) would show them.
const MIN_EXPECTED_RATE: u32 = 10;
/// Largest `--pow-expected-rate` (anything larger is a typo).
const MAX_EXPECTED_RATE: u32 = 1_000_000;

/// Accept `HOST.onion`, optionally written as `http://HOST.onion/`, and return
/// the bare host. Only v3 onion addresses (56 base32 characters) are accepted.
fn normalise_onion(value: &str) -> Result<String, ConfigError> {
    let v = value.trim().to_ascii_lowercase();
    let v = v.strip_prefix("http://").unwrap_or(&v);
    let v = v.strip_suffix('/').unwrap_or(v);
    let ok = v.strip_suffix(".onion").is_some_and(|host| {
        host.len() == 56
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    });
    if !ok {
        return Err(invalid(
            "--onion-address",
            "expected a v3 onion address: 56 base32 characters followed by .onion",
        ));
    }
    Ok(v.to_owned())
}

/// Create the data directory (and parents) with mode 0700 if it is missing:
/// it holds the database and, with `--demo`, a key file and a token.
pub fn ensure_data_dir(dir: &Path) -> Result<(), ConfigError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| ConfigError::DataDir {
            path: dir.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(common: CommonArgs, serve: ServeArgs) -> Result<ServeConfig, ConfigError> {
        resolve_serve(&common, &serve)
    }

    #[test]
    fn defaults() {
        let c = serve(CommonArgs::default(), ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.common.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(
            c.common.database_url,
            "sqlite://./quietline-data/quietline.sqlite"
        );
        assert!(c.common.database_is_default);
        assert_eq!(c.common.retention_days, 90);
        assert_eq!(c.server.max_body, MAX_ENVELOPE_LEN);
        assert!(c.server.access_log);
        assert!(c.server.onion_address.is_none());
        assert_eq!(c.server.exit_url, "https://www.bbc.co.uk/weather");
    }

    #[test]
    fn keylog_origin() {
        let with = |o: Option<&str>| {
            serve(
                CommonArgs::default(),
                ServeArgs {
                    keylog_origin: o.map(str::to_owned),
                    ..Default::default()
                },
            )
        };
        assert_eq!(
            with(None).unwrap().server.keylog_origin,
            DEFAULT_KEYLOG_ORIGIN
        );
        assert_eq!(
            with(Some("report.example.police.uk/keylog"))
                .unwrap()
                .server
                .keylog_origin,
            "report.example.police.uk/keylog"
        );
        for bad in ["", "a b", "a+b", "caf\u{e9}/log", "x\ny"] {
            let e = with(Some(bad)).unwrap_err().to_string();
            assert!(e.contains("--keylog-origin"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn exit_url() {
        let with = |url: &str| {
            serve(
                CommonArgs::default(),
                ServeArgs {
                    exit_url: Some(url.into()),
                    ..Default::default()
                },
            )
        };
        assert_eq!(
            with("https://www.example.org/news?x=1")
                .unwrap()
                .server
                .exit_url,
            "https://www.example.org/news?x=1"
        );
        for bad in [
            "",
            "www.bbc.co.uk",
            "javascript:alert(1)",
            "about:blank",
            "https://",
            "https:///path",
            "https://a b.example",
            "https://example.org/\r\nSet-Cookie: x",
            "https://exämple.org",
        ] {
            let e = with(bad).unwrap_err().to_string();
            assert!(e.contains("--exit-url"), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\nretention_days = 30\ndata_dir = \"/srv/q\"\naccess_log = false\n",
        )
        .unwrap();
        let common = CommonArgs {
            config: Some(path),
            retention_days: Some(7),
            ..Default::default()
        };
        let c = serve(common, ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.common.retention_days, 7);
        assert_eq!(c.common.database_url, "sqlite:///srv/q/quietline.sqlite");
        assert!(!c.server.access_log);
    }

    #[test]
    fn unknown_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.toml");
        std::fs::write(&path, "retension_days = 30\n").unwrap();
        let common = CommonArgs {
            config: Some(path),
            ..Default::default()
        };
        let err = serve(common, ServeArgs::default()).unwrap_err().to_string();
        assert!(err.contains("retension_days"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn bad_values() {
        let e = serve(
            CommonArgs {
                retention_days: Some(0),
                ..Default::default()
            },
            ServeArgs::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--retention-days"));
        let e = serve(
            CommonArgs::default(),
            ServeArgs {
                max_body: Some(MAX_ENVELOPE_LEN + 1),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("--max-body"));
        let e = serve(
            CommonArgs {
                database_url: Some("mysql://x".into()),
                ..Default::default()
            },
            ServeArgs::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--database-url"));
        let e = serve(
            CommonArgs::default(),
            ServeArgs {
                onion_address: Some("example.com".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("--onion-address"));
    }

    #[test]
    fn pow_settings() {
        let c = serve(CommonArgs::default(), ServeArgs::default()).unwrap();
        assert_eq!(c.server.pow, PowSettings::default());
        let with = |d: Option<u8>, m: Option<u8>| {
            serve(
                CommonArgs::default(),
                ServeArgs {
                    pow_difficulty: d,
                    pow_max_difficulty: m,
                    ..Default::default()
                },
            )
        };
        assert_eq!(
            with(Some(0), Some(3)).unwrap().server.pow,
            PowSettings::off()
        );
        assert_eq!(
            with(Some(30), None).unwrap().server.pow,
            PowSettings {
                floor: 30,
                max: 30,
                expected_rate: crate::pow::DEFAULT_EXPECTED_RATE
            }
        );
        assert_eq!(
            with(Some(8), Some(8)).unwrap().server.pow,
            PowSettings {
                expected_rate: crate::pow::DEFAULT_EXPECTED_RATE,
                ..PowSettings::fixed(8)
            }
        );
        let rate = |r: u32| {
            serve(
                CommonArgs::default(),
                ServeArgs {
                    pow_expected_rate: Some(r),
                    ..Default::default()
                },
            )
        };
        assert_eq!(rate(600).unwrap().server.pow.expected_rate, 600);
        for bad in [0, 9, 1_000_001] {
            let e = rate(bad).unwrap_err().to_string();
            assert!(e.contains("--pow-expected-rate"), "{e}");
        }
        let e = with(Some(33), None).unwrap_err().to_string();
        assert!(
            e.contains("--pow-difficulty") && e.contains("1 to 32"),
            "{e}"
        );
        let e = with(Some(20), Some(19)).unwrap_err().to_string();
        assert!(e.contains("--pow-max-difficulty"), "{e}");
    }

    #[test]
    fn onion_is_normalised() {
        let host = format!("{}.onion", "a".repeat(56));
        assert_eq!(normalise_onion(&format!("http://{host}/")).unwrap(), host);
        assert!(normalise_onion(&format!("{}.onion", "a".repeat(55))).is_err());
        assert!(normalise_onion(&format!("{}.onion", "1".repeat(56))).is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_database_url("postgres://u:secret@db:5432/q?password=x&sslmode=require"),
            "postgres://***@db:5432/q"
        );
        assert_eq!(redact_database_url("postgres://db/q"), "postgres://db/q");
        assert_eq!(
            redact_database_url("sqlite:///var/lib/q/q.sqlite?mode=rwc"),
            "sqlite:///var/lib/q/q.sqlite"
        );
        assert_eq!(
            redact_database_url("postgres://u:p@ss@db/q"),
            "postgres://***@db/q"
        );
    }
}
