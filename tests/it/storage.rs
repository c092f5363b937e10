//! Storage conformance: one suite of checks, each run against SQLite and
//! against PostgreSQL (`sqlite::<check>` and `postgres::<check>`), plus a few
//! checks that only make sense for one backend (file permissions, bytes left
//! in the SQLite file and WAL, schema facts).
//!
//! PostgreSQL comes from `crate::support::pg::fresh_database()`: a fresh database per
//! test, skipped when the server is unreachable, except with `CI=true` where
//! that fails the test.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::support::pg::{PgTestDb, fresh_database, sqlite_url};
use quietline::storage::{
    self, Day, ForceKey, KeyId, KeyStatus, NewReport, PowTicket, Purged, ReportId, SlotAddress,
    SlotWrite, Storage, StorageError, TokenInfo,
};
use sqlx::Connection;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Harness

enum Backend {
    Sqlite(TempDir),
    // Boxed: a PgTestDb is much larger than a TempDir.
    Postgres(Box<PgTestDb>),
}

/// One test's database, which can be opened (and reopened) as a `Storage`.
struct Db {
    url: String,
    backend: Backend,
}

impl Db {
    async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            url: sqlite_url(dir.path()),
            backend: Backend::Sqlite(dir),
        }
    }

    async fn postgres() -> Option<Db> {
        let pg = fresh_database().await?;
        Some(Db {
            url: pg.url().to_owned(),
            backend: Backend::Postgres(Box::new(pg)),
        })
    }

    async fn open(&self) -> Arc<dyn Storage> {
        storage::open(&self.url).await.expect("open storage")
    }

    /// `(id or address, purge_fuzz)` of every report and every slot, read
    /// directly from the database (the trait does not expose the fuzz).
    async fn fuzz(&self) -> (HashMap<Vec<u8>, i16>, HashMap<Vec<u8>, i16>) {
        const REPORTS: &str = "SELECT id, purge_fuzz FROM reports";
        const SLOTS: &str = "SELECT address, purge_fuzz FROM reply_slots";
        match &self.backend {
            Backend::Sqlite(_) => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .unwrap()
                    .read_only(true);
                let mut c = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                let r: Vec<(Vec<u8>, i16)> =
                    sqlx::query_as(REPORTS).fetch_all(&mut c).await.unwrap();
                let s: Vec<(Vec<u8>, i16)> = sqlx::query_as(SLOTS).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                (r.into_iter().collect(), s.into_iter().collect())
            }
            Backend::Postgres(_) => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let r: Vec<(Vec<u8>, i16)> =
                    sqlx::query_as(REPORTS).fetch_all(&mut c).await.unwrap();
                let s: Vec<(Vec<u8>, i16)> = sqlx::query_as(SLOTS).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                (r.into_iter().collect(), s.into_iter().collect())
            }
        }
    }

    /// `(id, expires)` of every spent proof-of-work challenge, read directly
    /// from the database (the trait only writes them).
    async fn spent(&self) -> BTreeSet<([u8; 16], i64)> {
        const SPENT: &str = "SELECT id, expires FROM pow_spent";
        let rows: Vec<(Vec<u8>, i64)> = match &self.backend {
            Backend::Sqlite(_) => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .unwrap()
                    .read_only(true);
                let mut c = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                let rows = sqlx::query_as(SPENT).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                rows
            }
            Backend::Postgres(_) => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query_as(SPENT).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                rows
            }
        };
        rows.into_iter()
            .map(|(id, expires)| (id.try_into().expect("16-octet id"), expires))
            .collect()
    }

    /// The days marked settled, with the table's columns (only `day`).
    async fn settled_days(&self) -> Vec<Day> {
        const DAYS: &str = "SELECT day FROM settled_days ORDER BY day";
        let rows: Vec<(Day,)> = match &self.backend {
            Backend::Sqlite(_) => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .unwrap()
                    .read_only(true);
                let mut c = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                let cols: Vec<(String,)> =
                    sqlx::query_as("SELECT name FROM pragma_table_info('settled_days')")
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                assert_eq!(cols, [("day".to_owned(),)]);
                let rows = sqlx::query_as(DAYS).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                rows
            }
            Backend::Postgres(_) => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let cols: Vec<(String,)> = sqlx::query_as(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'settled_days'",
                )
                .fetch_all(&mut c)
                .await
                .unwrap();
                assert_eq!(cols, [("day".to_owned(),)]);
                let rows = sqlx::query_as(DAYS).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                rows
            }
        };
        rows.into_iter().map(|(d,)| d).collect()
    }

    /// Where each report physically sits, by measure, read directly from the
    /// database. SQLite: `"page"` (the mean page number of a row's overflow
    /// pages, or its leaf page if it has none) and `"overflow page"` (rows
    /// with overflow pages only), from the `dbstat` virtual table.
    /// PostgreSQL: `"ctid"` (block, then offset) and `"toast chunk id"`
    /// (rows stored out of line only).
    async fn layout(&self) -> BTreeMap<&'static str, HashMap<ReportId, f64>> {
        let mut out: BTreeMap<&'static str, HashMap<ReportId, f64>> = BTreeMap::new();
        match &self.backend {
            Backend::Sqlite(_) => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .unwrap()
                    .read_only(true);
                let mut c = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                let mut tx = c.begin().await.unwrap();
                // Rows in rid (b-tree) order: the order of the cells in the leaves.
                let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT id FROM reports ORDER BY rid")
                    .fetch_all(&mut *tx)
                    .await
                    .unwrap();
                let pages: Vec<(String, i64, String, i64)> = sqlx::query_as(
                    "SELECT path, pageno, pagetype, ncell FROM dbstat WHERE name = 'reports'",
                )
                .fetch_all(&mut *tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
                c.close().await.unwrap();
                // Leaf paths ("/", "/003/", "/003/01a/", …: three hex digits a
                // level) sort in tree order; a leaf's first row is the sum of
                // the cells before it.
                let mut leaves: Vec<(&str, i64, i64)> = pages
                    .iter()
                    .filter(|p| p.2 == "leaf")
                    .map(|p| (p.0.as_str(), p.1, p.3))
                    .collect();
                leaves.sort_unstable();
                let mut first_row: HashMap<&str, (usize, i64)> = HashMap::new();
                let mut n = 0usize;
                for (path, pageno, ncell) in &leaves {
                    first_row.insert(path, (n, *pageno));
                    n += usize::try_from(*ncell).unwrap();
                }
                assert_eq!(n, rows.len(), "dbstat and the table disagree");
                let id = |i: usize| -> ReportId { rows[i].0.clone().try_into().unwrap() };
                // An overflow page's path is its leaf's path, the cell's index
                // (three hex digits), '+', and its place in the chain.
                let mut overflow: HashMap<usize, Vec<i64>> = HashMap::new();
                for (path, pageno, kind, _) in &pages {
                    if kind != "overflow" {
                        continue;
                    }
                    let (cell_path, _) = path.split_once('+').unwrap();
                    let (leaf, cell) = cell_path.split_at(cell_path.len() - 3);
                    let row = first_row[leaf].0 + usize::from_str_radix(cell, 16).unwrap();
                    overflow.entry(row).or_default().push(*pageno);
                }
                let mut page = HashMap::new();
                let mut with_overflow = HashMap::new();
                for (path, (first, pageno)) in &first_row {
                    let ncell = leaves.iter().find(|l| l.0 == *path).unwrap().2;
                    for row in *first..*first + usize::try_from(ncell).unwrap() {
                        match overflow.get(&row) {
                            Some(p) => {
                                let mean = p.iter().sum::<i64>() as f64 / p.len() as f64;
                                page.insert(id(row), mean);
                                with_overflow.insert(id(row), mean);
                            }
                            None => {
                                page.insert(id(row), *pageno as f64);
                            }
                        }
                    }
                }
                out.insert("page", page);
                out.insert("overflow page", with_overflow);
            }
            Backend::Postgres(_) => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let ctids: Vec<(Vec<u8>, i64, i64)> = sqlx::query_as(
                    "SELECT id, (ctid::text::point)[0]::int8, (ctid::text::point)[1]::int8 FROM reports",
                )
                .fetch_all(&mut c)
                .await
                .unwrap();
                out.insert(
                    "ctid",
                    ctids
                        .into_iter()
                        .map(|(id, block, offset)| {
                            (id.try_into().unwrap(), (block * 65_536 + offset) as f64)
                        })
                        .collect(),
                );
                // A value's first chunk holds its first bytes: match them.
                let (toast,): (String,) = sqlx::query_as(
                    "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'reports'::regclass",
                )
                .fetch_one(&mut c)
                .await
                .unwrap();
                let chunks: Vec<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT chunk_id::int8, substring(chunk_data FROM 1 FOR 64) FROM {toast} WHERE chunk_seq = 0"
                )))
                .fetch_all(&mut c)
                .await
                .unwrap();
                let heads: Vec<(Vec<u8>, Vec<u8>)> =
                    sqlx::query_as("SELECT id, substring(envelope FROM 1 FOR 64) FROM reports")
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                c.close().await.unwrap();
                let by_head: HashMap<Vec<u8>, ReportId> = heads
                    .into_iter()
                    .map(|(id, head)| (head, id.try_into().unwrap()))
                    .collect();
                let mut chunk_ids = HashMap::new();
                for (chunk_id, head) in chunks {
                    let id = by_head[&head];
                    assert!(
                        chunk_ids.insert(id, chunk_id as f64).is_none(),
                        "two TOAST values for one report"
                    );
                }
                out.insert("toast chunk id", chunk_ids);
            }
        }
        out
    }

    /// Rows in a SQLite table.
    async fn sqlite_count(&self, table: &str) -> i64 {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
            .unwrap()
            .read_only(true);
        let mut c = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut c)
                .await
                .unwrap();
        c.close().await.unwrap();
        n
    }

    fn sqlite_path(&self) -> PathBuf {
        match &self.backend {
            Backend::Sqlite(dir) => dir.path().join("quietline.sqlite"),
            Backend::Postgres(_) => panic!("not a SQLite database"),
        }
    }

    async fn finish(self) {
        match self.backend {
            Backend::Sqlite(_) => {}
            Backend::Postgres(pg) => pg.cleanup().await,
        }
    }
}

/// Declare each check as a test against both backends.
macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let db = super::Db::sqlite().await;
                    super::$check(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(db) = super::Db::postgres().await else { return };
                    super::$check(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance!(
    forces_are_listed_in_id_order_with_their_current_key,
    key_lifecycle,
    handler_tokens,
    inbox_pages_in_id_order_and_forces_are_isolated,
    many_reports_at_once_are_the_forces_own,
    refused_reports_fail_alone,
    the_store_refuses_a_retired_key,
    slots_are_one_time,
    purge_keeps_through_the_last_day_and_respects_fuzz,
    concurrent_inserts_are_all_durable,
    restart_keeps_everything_acknowledged,
    closed_storage_refuses_writes,
    a_report_and_its_challenge_are_stored_together,
    a_challenge_is_spent_once_under_concurrency,
    forget_spent_deletes_what_has_expired,
    pow_key_is_the_first_one_stored,
    settling_a_closed_day_hides_arrival_order,
    // Blobs (attachments, issue 19): at the end of this file.
    blobs_upload_in_parts_and_complete_with_the_last,
    blob_purge_expires_uploads_and_unreferenced_blobs,
    blob_parts_survive_a_restart,
);

// ---------------------------------------------------------------------------
// Helpers

const DAY: Day = 20_000;

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).unwrap();
    b
}

fn report(force: &str, key_id: KeyId, envelope: Vec<u8>, day: Day) -> NewReport {
    NewReport {
        id: random(),
        force_id: force.to_owned(),
        key_id,
        envelope,
        day,
        pow: None,
    }
}

/// A report that spends `ticket`.
fn report_with(
    force: &str,
    key_id: KeyId,
    envelope: Vec<u8>,
    day: Day,
    ticket: PowTicket,
) -> NewReport {
    NewReport {
        pow: Some(ticket),
        ..report(force, key_id, envelope, day)
    }
}

/// A spent-challenge record with a random id, expiring at `expires` (a
/// multiple of five minutes, as the server writes them).
fn ticket(expires: i64) -> PowTicket {
    PowTicket {
        id: random(),
        expires,
    }
}

/// An expiry as the server writes them: Unix seconds, a multiple of 300.
const EXPIRES: i64 = 1_795_823_700;

/// The ids in a force's inbox (up to 1,000), as a set.
async fn inbox_ids(s: &dyn Storage, force: &str) -> BTreeSet<ReportId> {
    s.inbox(force, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// A force with one (current) key; returns the key id.
async fn force_with_key(s: &dyn Storage, id: &str) -> KeyId {
    s.add_force(id, &format!("{id} police")).await.unwrap();
    let key_id: KeyId = random();
    s.add_force_key(id, key_id, random::<32>().to_vec())
        .await
        .unwrap();
    key_id
}

fn assert_unknown_force<T: std::fmt::Debug>(r: Result<T, StorageError>, force: &str) {
    match r {
        Err(StorageError::UnknownForce(f)) => assert_eq!(f, force),
        other => panic!("expected UnknownForce({force:?}), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Checks (each runs against both backends)

async fn forces_are_listed_in_id_order_with_their_current_key(db: &Db) {
    let s = db.open().await;
    assert!(s.forces().await.unwrap().is_empty());
    s.add_force("zeta", "Zeta Constabulary").await.unwrap();
    s.add_force("alpha", "Alpha Police").await.unwrap();
    assert!(matches!(
        s.add_force("alpha", "Again").await,
        Err(StorageError::ForceExists(f)) if f == "alpha"
    ));
    let key: KeyId = random();
    let pk = random::<32>().to_vec();
    s.add_force_key("zeta", key, pk.clone()).await.unwrap();

    let forces = s.forces().await.unwrap();
    assert_eq!(forces.len(), 2);
    assert_eq!(
        (forces[0].id.as_str(), forces[0].name.as_str()),
        ("alpha", "Alpha Police")
    );
    assert_eq!(forces[0].current_key, None);
    assert_eq!(
        (forces[1].id.as_str(), forces[1].name.as_str()),
        ("zeta", "Zeta Constabulary")
    );
    assert_eq!(
        forces[1].current_key,
        Some(ForceKey {
            key_id: key,
            public_key: pk,
            status: KeyStatus::Current
        })
    );
    // The name of an existing force is unchanged by the refused add.
    assert_eq!(s.forces().await.unwrap()[0].name, "Alpha Police");
    s.close().await;
}

async fn key_lifecycle(db: &Db) {
    let s = db.open().await;
    s.add_force("a", "A").await.unwrap();
    s.add_force("b", "B").await.unwrap();
    let (k1, p1): (KeyId, Vec<u8>) = (random(), random::<32>().to_vec());
    let (k2, p2): (KeyId, Vec<u8>) = (random(), random::<32>().to_vec());

    s.add_force_key("a", k1, p1.clone()).await.unwrap();
    assert_eq!(
        s.key_status("a", k1).await.unwrap(),
        Some(KeyStatus::Current)
    );
    // A new key becomes current and demotes the old one to active.
    s.add_force_key("a", k2, p2.clone()).await.unwrap();
    assert_eq!(
        s.key_status("a", k1).await.unwrap(),
        Some(KeyStatus::Active)
    );
    assert_eq!(
        s.key_status("a", k2).await.unwrap(),
        Some(KeyStatus::Current)
    );
    assert_eq!(
        s.forces().await.unwrap()[0]
            .current_key
            .as_ref()
            .unwrap()
            .key_id,
        k2
    );

    // Re-adding a key, to the same or another force, is refused, and changes nothing.
    assert!(matches!(
        s.add_force_key("a", k1, p1.clone()).await,
        Err(StorageError::KeyExists)
    ));
    assert!(matches!(
        s.add_force_key("a", k2, p2.clone()).await,
        Err(StorageError::KeyExists)
    ));
    assert!(matches!(
        s.add_force_key("b", k1, p1.clone()).await,
        Err(StorageError::KeyExists)
    ));
    assert!(matches!(
        s.add_force_key("a", k1, random::<32>().to_vec()).await,
        Err(StorageError::KeyExists)
    ));
    assert_eq!(
        s.key_status("a", k2).await.unwrap(),
        Some(KeyStatus::Current)
    );
    assert!(s.force_keys("b").await.unwrap().is_empty());

    // The current key cannot be retired; an older one can (and again, idempotently).
    assert!(matches!(
        s.retire_force_key("a", k2).await,
        Err(StorageError::RetireCurrent(f)) if f == "a"
    ));
    s.retire_force_key("a", k1).await.unwrap();
    s.retire_force_key("a", k1).await.unwrap();
    assert_eq!(
        s.key_status("a", k1).await.unwrap(),
        Some(KeyStatus::Retired)
    );
    assert!(matches!(
        s.retire_force_key("a", random()).await,
        Err(StorageError::UnknownKey(f)) if f == "a"
    ));
    // A key of force a is unknown to force b.
    assert!(matches!(
        s.retire_force_key("b", k1).await,
        Err(StorageError::UnknownKey(_))
    ));
    assert_eq!(s.key_status("b", k1).await.unwrap(), None);

    // A third key: k2 becomes active, and the listing is current, active, retired.
    let (k3, p3): (KeyId, Vec<u8>) = (random(), random::<32>().to_vec());
    s.add_force_key("a", k3, p3.clone()).await.unwrap();
    assert_eq!(
        s.force_keys("a").await.unwrap(),
        [
            ForceKey {
                key_id: k3,
                public_key: p3,
                status: KeyStatus::Current
            },
            ForceKey {
                key_id: k2,
                public_key: p2,
                status: KeyStatus::Active
            },
            ForceKey {
                key_id: k1,
                public_key: p1,
                status: KeyStatus::Retired
            },
        ]
    );

    // Unknown force, everywhere.
    assert_unknown_force(
        s.add_force_key("nope", random(), random::<32>().to_vec())
            .await,
        "nope",
    );
    assert_unknown_force(s.retire_force_key("nope", k1).await, "nope");
    assert_unknown_force(s.force_keys("nope").await, "nope");
    assert_unknown_force(s.key_status("nope", k1).await, "nope");
    s.close().await;
}

async fn handler_tokens(db: &Db) {
    let s = db.open().await;
    s.add_force("a", "A").await.unwrap();
    s.add_force("b", "B").await.unwrap();
    let (t1, t2, t3): ([u8; 32], [u8; 32], [u8; 32]) = (random(), random(), random());

    s.add_token(t1, "a", "alice").await.unwrap();
    s.add_token(t2, "a", "bob").await.unwrap();
    // Labels are unique per force, not globally.
    s.add_token(t3, "b", "alice").await.unwrap();
    assert!(matches!(
        s.add_token(random(), "a", "alice").await,
        Err(StorageError::TokenLabelExists(f, l)) if f == "a" && l == "alice"
    ));
    assert_unknown_force(s.add_token(random(), "nope", "x").await, "nope");

    assert_eq!(s.token_force(t1).await.unwrap().as_deref(), Some("a"));
    assert_eq!(s.token_force(t3).await.unwrap().as_deref(), Some("b"));
    assert_eq!(s.token_force(random()).await.unwrap(), None);

    s.revoke_token("a", "alice").await.unwrap();
    s.revoke_token("a", "alice").await.unwrap(); // idempotent
    assert_eq!(
        s.token_force(t1).await.unwrap(),
        None,
        "a revoked token is dead"
    );
    assert_eq!(s.token_force(t2).await.unwrap().as_deref(), Some("a"));
    assert_eq!(
        s.token_force(t3).await.unwrap().as_deref(),
        Some("b"),
        "b's alice is untouched"
    );
    assert!(matches!(
        s.revoke_token("a", "carol").await,
        Err(StorageError::UnknownToken(f, l)) if f == "a" && l == "carol"
    ));
    assert_unknown_force(s.revoke_token("nope", "alice").await, "nope");
    // A revoked token's label stays taken.
    assert!(matches!(
        s.add_token(random(), "a", "alice").await,
        Err(StorageError::TokenLabelExists(..))
    ));

    let info = |f: &str, l: &str, revoked| TokenInfo {
        force_id: f.into(),
        label: l.into(),
        revoked,
    };
    assert_eq!(
        s.tokens(None).await.unwrap(),
        [
            info("a", "alice", true),
            info("a", "bob", false),
            info("b", "alice", false)
        ]
    );
    assert_eq!(
        s.tokens(Some("b")).await.unwrap(),
        [info("b", "alice", false)]
    );
    assert_unknown_force(s.tokens(Some("nope")).await, "nope");
    s.close().await;
}

async fn inbox_pages_in_id_order_and_forces_are_isolated(db: &Db) {
    let s = db.open().await;
    let ka = force_with_key(&*s, "a").await;
    let kb = force_with_key(&*s, "b").await;
    s.add_force("empty", "Empty").await.unwrap();

    let mut a: BTreeMap<ReportId, (Vec<u8>, Day)> = BTreeMap::new();
    for n in 0..25u8 {
        let r = report(
            "a",
            ka,
            vec![n; 100 + usize::from(n)],
            DAY + i32::from(n % 3),
        );
        a.insert(r.id, (r.envelope.clone(), r.day));
        s.insert_report(r).await.unwrap();
    }
    let mut b: Vec<ReportId> = Vec::new();
    for n in 0..5u8 {
        let r = report("b", kb, vec![200 + n; 50], DAY);
        b.push(r.id);
        s.insert_report(r).await.unwrap();
    }

    // Page through a's inbox 7 at a time.
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = s.inbox("a", after, 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().id);
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [7, 7, 7, 4]);
    let listed: Vec<_> = pages.into_iter().flatten().collect();
    assert_eq!(
        listed.iter().map(|e| e.id).collect::<Vec<_>>(),
        a.keys().copied().collect::<Vec<_>>(),
        "every report of a, once each, in id order"
    );
    for e in &listed {
        assert_eq!(e.key_id, ka);
        assert_eq!(e.day, a[&e.id].1);
        assert_eq!(
            s.report("a", e.id).await.unwrap().as_ref(),
            Some(&a[&e.id].0)
        );
    }
    assert!(s.inbox("a", None, 0).await.unwrap().is_empty());
    assert!(s.inbox("empty", None, 10).await.unwrap().is_empty());

    // Force isolation: b sees only b's, and neither can read the other's report.
    let b_listed: BTreeSet<_> = s
        .inbox("b", None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(b_listed, b.iter().copied().collect());
    let an_a_report = *a.keys().next().unwrap();
    assert_eq!(s.report("b", an_a_report).await.unwrap(), None);
    assert_eq!(s.report("a", b[0]).await.unwrap(), None);
    assert_eq!(s.report("empty", b[0]).await.unwrap(), None);
    assert_eq!(s.report("a", random()).await.unwrap(), None);

    assert_unknown_force(s.inbox("nope", None, 10).await, "nope");
    assert_unknown_force(s.report("nope", an_a_report).await, "nope");
    s.close().await;
}

/// `reports` (the batched inbox fetch): the force's own, in the order asked,
/// each once; another force's and missing ids left out alike; an id sharing
/// a stored one's first 8 bytes (SQLite's rowid) is not taken for it.
async fn many_reports_at_once_are_the_forces_own(db: &Db) {
    let s = db.open().await;
    let ka = force_with_key(&*s, "a").await;
    let kb = force_with_key(&*s, "b").await;
    s.add_force("empty", "Empty").await.unwrap();
    let mut a = Vec::new();
    for n in 0..5u8 {
        let r = report("a", ka, vec![n; 300], DAY);
        a.push((r.id, r.envelope.clone()));
        s.insert_report(r).await.unwrap();
    }
    let theirs = report("b", kb, vec![9; 80], DAY);
    let their_id = theirs.id;
    s.insert_report(theirs).await.unwrap();
    let mut twin = a[1].0;
    twin[15] ^= 1;

    let asked = [a[3].0, random(), their_id, a[0].0, twin, a[3].0, a[4].0];
    let got = s.reports("a", &asked).await.unwrap();
    assert_eq!(
        got,
        vec![a[3].clone(), a[0].clone(), a[4].clone()],
        "a's own, in the order asked, each once"
    );
    assert_eq!(
        s.reports("b", &[a[0].0, their_id]).await.unwrap(),
        vec![(their_id, vec![9; 80])]
    );
    assert!(s.reports("a", &[]).await.unwrap().is_empty());
    assert!(s.reports("empty", &[a[0].0]).await.unwrap().is_empty());
    assert_unknown_force(s.reports("nope", &[a[0].0]).await, "nope");
    // More ids than one SQLite statement binds at once (the API asks 64 at most).
    let many: Vec<ReportId> = (0..1200)
        .map(|i| if i == 1100 { a[2].0 } else { random() })
        .collect();
    assert_eq!(s.reports("a", &many).await.unwrap(), vec![a[2].clone()]);
    s.close().await;
}

async fn refused_reports_fail_alone(db: &Db) {
    let s = db.open().await;
    // Force a has a retired key and a current one.
    let retired = force_with_key(&*s, "a").await;
    let ka: KeyId = random();
    s.add_force_key("a", ka, random::<32>().to_vec())
        .await
        .unwrap();
    s.retire_force_key("a", retired).await.unwrap();
    s.add_force("b", "B").await.unwrap();

    let dup = report("a", ka, vec![1; 64], DAY);
    s.insert_report(dup.clone()).await.unwrap();

    // Good and bad reports at once, so that they share batches: each bad one
    // gets its own error and every good one is stored.
    let mut tasks = Vec::new();
    let mut good = BTreeSet::new();
    for n in 0..60u32 {
        let r = match n % 4 {
            1 => report("nope", ka, vec![2; 64], DAY), // unknown force
            2 => report("b", ka, vec![3; 64], DAY),    // force b has no such key
            3 if n == 3 => NewReport {
                envelope: vec![4; 64],
                ..dup.clone()
            }, // duplicate id
            3 => report("a", retired, vec![6; 64], DAY), // retired key
            _ => {
                let r = report("a", ka, vec![5; 64], DAY);
                good.insert(r.id);
                r
            }
        };
        let s = s.clone();
        tasks.push(tokio::spawn(async move { (n, s.insert_report(r).await) }));
    }
    for t in tasks {
        let (n, outcome) = t.await.unwrap();
        match n % 4 {
            1 => assert_unknown_force(outcome, "nope"),
            2 => assert!(
                matches!(outcome, Err(StorageError::UnknownKey(ref f)) if f == "b"),
                "{outcome:?}"
            ),
            3 if n == 3 => assert!(
                matches!(outcome, Err(StorageError::Database(_))),
                "{outcome:?}"
            ),
            // The store itself refuses a retired key, whoever checked before.
            3 => assert!(
                matches!(outcome, Err(StorageError::UnknownKey(ref f)) if f == "a"),
                "{outcome:?}"
            ),
            _ => outcome.unwrap(),
        }
    }
    let stored = inbox_ids(&*s, "a").await;
    good.insert(dup.id);
    assert_eq!(stored, good);
    assert_eq!(
        s.report("a", dup.id).await.unwrap(),
        Some(dup.envelope),
        "the first copy is kept"
    );
    assert!(s.inbox("b", None, 10).await.unwrap().is_empty());
    s.close().await;
}

/// The store checks keys itself, in the writing transaction: the server
/// skips its own lookup for keys it has seen accepted (src/http/keys.rs), so
/// a key retired meanwhile must be refused here, alone or among good rows,
/// and its challenge left unspent.
async fn the_store_refuses_a_retired_key(db: &Db) {
    let s = db.open().await;
    let retired = force_with_key(&*s, "a").await;
    let current: KeyId = random();
    s.add_force_key("a", current, random::<32>().to_vec())
        .await
        .unwrap();
    s.retire_force_key("a", retired).await.unwrap();

    // Alone (a batch of one), with a challenge that stays usable.
    let t = ticket(EXPIRES);
    let refused = s
        .insert_report(report_with("a", retired, vec![1; 64], DAY, t))
        .await;
    assert!(
        matches!(refused, Err(StorageError::UnknownKey(ref f)) if f == "a"),
        "{refused:?}"
    );
    let first = report_with("a", current, vec![2; 64], DAY, t);
    s.insert_report(first.clone()).await.unwrap();

    // Among good rows only, so that they share batches.
    let mut good = BTreeSet::from([first.id]);
    let mut tasks = Vec::new();
    for n in 0..40u32 {
        let key = if n % 2 == 0 { retired } else { current };
        let r = report_with("a", key, vec![3; 64], DAY, ticket(EXPIRES));
        if n % 2 == 1 {
            good.insert(r.id);
        }
        let s = s.clone();
        tasks.push(tokio::spawn(async move { (n, s.insert_report(r).await) }));
    }
    for t in tasks {
        let (n, outcome) = t.await.unwrap();
        if n % 2 == 0 {
            assert!(
                matches!(outcome, Err(StorageError::UnknownKey(ref f)) if f == "a"),
                "{outcome:?}"
            );
        } else {
            outcome.unwrap();
        }
    }
    let stored = inbox_ids(&*s, "a").await;
    assert_eq!(stored, good);
    s.close().await;
}

async fn slots_are_one_time(db: &Db) {
    let s = db.open().await;
    let (x, y, missing): (SlotAddress, SlotAddress, SlotAddress) = (random(), random(), random());
    assert_eq!(
        s.put_slot(x, b"first reply".to_vec(), DAY).await.unwrap(),
        SlotWrite::Stored
    );
    assert_eq!(
        s.put_slot(x, b"second reply".to_vec(), DAY).await.unwrap(),
        SlotWrite::Taken
    );
    assert_eq!(
        s.slot(x).await.unwrap().as_deref(),
        Some(&b"first reply"[..]),
        "one-time"
    );
    assert_eq!(
        s.put_slot(y, vec![7; 8192], DAY + 1).await.unwrap(),
        SlotWrite::Stored
    );
    assert_eq!(s.slot(missing).await.unwrap(), None);

    assert_eq!(
        s.slots(&[y, missing, x, y]).await.unwrap(),
        [(y, vec![7; 8192]), (x, b"first reply".to_vec())],
        "present ones, in the order asked, each once"
    );
    assert!(s.slots(&[missing]).await.unwrap().is_empty());
    assert!(s.slots(&[]).await.unwrap().is_empty());
    s.close().await;
}

async fn purge_keeps_through_the_last_day_and_respects_fuzz(db: &Db) {
    const RETENTION: u32 = 30;
    const ROWS: usize = 64;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    for _ in 0..ROWS {
        s.insert_report(report("a", k, vec![1; 32], DAY))
            .await
            .unwrap();
        assert_eq!(
            s.put_slot(random(), vec![2; 32], DAY).await.unwrap(),
            SlotWrite::Stored
        );
    }
    // Newer rows that no purge below may touch.
    let young = report("a", k, vec![3; 32], DAY + 100);
    s.insert_report(young.clone()).await.unwrap();
    let young_slot: SlotAddress = random();
    s.put_slot(young_slot, vec![4; 32], DAY + 100)
        .await
        .unwrap();

    let (mut report_fuzz, mut slot_fuzz) = db.fuzz().await;
    // The young rows are checked separately below.
    report_fuzz.remove(&young.id[..]).unwrap();
    slot_fuzz.remove(&young_slot[..]).unwrap();
    assert!(
        report_fuzz
            .values()
            .chain(slot_fuzz.values())
            .all(|f| (0..=7).contains(f))
    );
    // 64 uniform draws from 0..=7 are all equal with probability 8^-63.
    assert!(
        report_fuzz.values().collect::<BTreeSet<_>>().len() > 1,
        "fuzz must vary"
    );
    assert!(
        slot_fuzz.values().collect::<BTreeSet<_>>().len() > 1,
        "fuzz must vary"
    );

    let last_day = DAY + RETENTION as Day; // the last day a fuzz-0 row is kept
    // Nothing goes on or before the last day; DAY is settled once, at the
    // first purge after it closed.
    for (today, settled) in [(DAY, 0), (last_day - 1, 1), (last_day, 0)] {
        assert_eq!(
            s.purge(today, RETENTION).await.unwrap(),
            Purged {
                days_settled: settled,
                ..Purged::default()
            },
            "today {today}"
        );
    }
    // Day by day, exactly the rows whose own last day has passed go.
    let mut total = Purged::default();
    for today in last_day + 1..=last_day + 8 {
        let purged = s.purge(today, RETENTION).await.unwrap();
        let due = |f: &HashMap<Vec<u8>, i16>| {
            f.values()
                .filter(|&&fz| last_day + Day::from(fz) == today - 1)
                .count() as u64
        };
        assert_eq!(
            purged.reports,
            due(&report_fuzz),
            "reports purged on day {today}"
        );
        assert_eq!(purged.slots, due(&slot_fuzz), "slots purged on day {today}");
        total.reports += purged.reports;
        total.slots += purged.slots;

        let (left_r, left_s) = db.fuzz().await;
        for (id, f) in &report_fuzz {
            assert_eq!(
                left_r.contains_key(id),
                last_day + Day::from(*f) >= today,
                "day {today}"
            );
        }
        for (a, f) in &slot_fuzz {
            assert_eq!(
                left_s.contains_key(a),
                last_day + Day::from(*f) >= today,
                "day {today}"
            );
        }
    }
    assert_eq!(
        total,
        Purged {
            reports: ROWS as u64,
            slots: ROWS as u64,
            copies: 0,
            days_settled: 0,
        }
    );
    // Only the young rows are left, and they are still readable.
    let left = s.inbox("a", None, 1000).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), [young.id]);
    assert_eq!(s.report("a", young.id).await.unwrap(), Some(young.envelope));
    assert_eq!(s.slot(young_slot).await.unwrap(), Some(vec![4; 32]));
    s.close().await;
}

async fn concurrent_inserts_are_all_durable(db: &Db) {
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let mut tasks = Vec::new();
    for n in 0..200u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut envelope = vec![0u8; 8192];
            envelope[..4].copy_from_slice(&n.to_be_bytes());
            let r = report("a", k, envelope, DAY);
            let id = r.id;
            s.insert_report(r).await.map(|()| (id, n))
        }));
    }
    let mut acked = BTreeMap::new();
    for t in tasks {
        let (id, n) = t.await.unwrap().expect("insert acknowledged");
        acked.insert(id, n);
    }
    assert_eq!(acked.len(), 200);
    // Readable at once, and after a restart.
    assert_eq!(s.inbox("a", None, 1000).await.unwrap().len(), 200);
    s.close().await;
    drop(s);
    let s = db.open().await;
    let listed = s.inbox("a", None, 1000).await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.id).collect::<Vec<_>>(),
        acked.keys().copied().collect::<Vec<_>>()
    );
    for (id, n) in &acked {
        let envelope = s.report("a", *id).await.unwrap().unwrap();
        assert_eq!(envelope.len(), 8192);
        assert_eq!(envelope[..4], n.to_be_bytes());
    }
    s.close().await;
}

async fn restart_keeps_everything_acknowledged(db: &Db) {
    let s = db.open().await;
    s.add_force("a", "A").await.unwrap();
    let (k1, p1): (KeyId, Vec<u8>) = (random(), random::<32>().to_vec());
    let (k2, p2): (KeyId, Vec<u8>) = (random(), random::<32>().to_vec());
    s.add_force_key("a", k1, p1.clone()).await.unwrap();
    s.add_force_key("a", k2, p2.clone()).await.unwrap();
    s.retire_force_key("a", k1).await.unwrap();
    let (t1, t2): ([u8; 32], [u8; 32]) = (random(), random());
    s.add_token(t1, "a", "one").await.unwrap();
    s.add_token(t2, "a", "two").await.unwrap();
    s.revoke_token("a", "one").await.unwrap();
    let r = report("a", k2, vec![9; 4096], DAY);
    s.insert_report(r.clone()).await.unwrap();
    let slot: SlotAddress = random();
    s.put_slot(slot, vec![8; 100], DAY).await.unwrap();

    // First restart: an orderly close.
    s.close().await;
    drop(s);
    let s = db.open().await;
    let check = |s: Arc<dyn Storage>| {
        let r = r.clone();
        async move {
            let forces = s.forces().await.unwrap();
            assert_eq!(forces.len(), 1);
            assert_eq!(forces[0].current_key.as_ref().unwrap().key_id, k2);
            assert_eq!(
                s.key_status("a", k1).await.unwrap(),
                Some(KeyStatus::Retired)
            );
            assert_eq!(s.token_force(t1).await.unwrap(), None);
            assert_eq!(s.token_force(t2).await.unwrap().as_deref(), Some("a"));
            assert_eq!(s.report("a", r.id).await.unwrap(), Some(r.envelope.clone()));
            let inbox = s.inbox("a", None, 10).await.unwrap();
            let entry = inbox.iter().find(|e| e.id == r.id).unwrap();
            assert_eq!((entry.key_id, entry.day), (k2, DAY));
            assert_eq!(s.slot(slot).await.unwrap(), Some(vec![8; 100]));
            assert_eq!(
                s.put_slot(slot, vec![0; 1], DAY).await.unwrap(),
                SlotWrite::Taken
            );
        }
    };
    check(s.clone()).await;

    // Second restart: dropped without close(); acknowledged writes were
    // already committed, so nothing may be lost.
    let late = report("a", k2, vec![7; 100], DAY + 1);
    s.insert_report(late.clone()).await.unwrap();
    drop(s);
    let s = db.open().await;
    check(s.clone()).await;
    assert_eq!(s.report("a", late.id).await.unwrap(), Some(late.envelope));
    s.close().await;
}

async fn closed_storage_refuses_writes(db: &Db) {
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    s.close().await;
    s.close().await; // idempotent
    assert!(matches!(
        s.insert_report(report("a", k, vec![1], DAY)).await,
        Err(StorageError::WriterGone)
    ));
    assert!(matches!(
        s.put_slot(random(), vec![1], DAY).await,
        Err(StorageError::WriterGone)
    ));
    assert!(matches!(
        s.add_force("b", "B").await,
        Err(StorageError::WriterGone)
    ));
}

/// crypto/FORMAT.md#verifying, step 8: a report is stored if and only if its
/// challenge is recorded as spent, in one transaction.
async fn a_report_and_its_challenge_are_stored_together(db: &Db) {
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    s.add_force("b", "B").await.unwrap();

    // Stored: the report, and the ticket exactly as given.
    let t = ticket(EXPIRES);
    let first = report_with("a", k, vec![1; 64], DAY, t);
    s.insert_report(first.clone()).await.unwrap();
    assert_eq!(
        s.report("a", first.id).await.unwrap(),
        Some(first.envelope.clone())
    );
    assert_eq!(db.spent().await, BTreeSet::from([(t.id, t.expires)]));

    // The same ticket again, with another report: refused, nothing stored.
    // (A ticket is the challenge's id and its expiry, which the challenge's
    // MAC binds together: a replay repeats both.)
    let second = report_with("a", k, vec![2; 64], DAY, t);
    assert!(
        matches!(
            s.insert_report(second.clone()).await,
            Err(StorageError::ChallengeSpent)
        ),
        "a spent challenge is refused"
    );
    assert_eq!(s.report("a", second.id).await.unwrap(), None);
    assert_eq!(
        s.inbox("a", None, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        [first.id]
    );

    // A report refused for another reason spends nothing: its ticket is
    // still usable afterwards.
    let (u, v, w) = (ticket(EXPIRES), ticket(EXPIRES), ticket(EXPIRES));
    assert_unknown_force(
        s.insert_report(report_with("nope", k, vec![4; 64], DAY, u))
            .await,
        "nope",
    );
    assert!(matches!(
        s.insert_report(report_with("b", k, vec![5; 64], DAY, v))
            .await,
        Err(StorageError::UnknownKey(_))
    ));
    let duplicate_id = NewReport {
        envelope: vec![6; 64],
        pow: Some(w),
        ..first.clone()
    };
    assert!(s.insert_report(duplicate_id).await.is_err());
    assert_eq!(
        db.spent().await,
        BTreeSet::from([(t.id, t.expires)]),
        "a refused report leaves no spent challenge"
    );
    let mut stored = vec![first.id];
    for t in [u, v, w] {
        let r = report_with("a", k, vec![7; 64], DAY, t);
        stored.push(r.id);
        s.insert_report(r).await.unwrap();
    }
    stored.sort();

    // A report without a ticket records none.
    let plain = report("a", k, vec![8; 64], DAY);
    s.insert_report(plain.clone()).await.unwrap();
    stored.push(plain.id);
    stored.sort();
    assert_eq!(db.spent().await.len(), 4);

    // Spent stays spent across a restart.
    s.close().await;
    drop(s);
    let s = db.open().await;
    for t in [t, u, v, w] {
        let r = report_with("a", k, vec![9; 64], DAY, t);
        assert!(matches!(
            s.insert_report(r).await,
            Err(StorageError::ChallengeSpent)
        ));
    }
    assert_eq!(
        s.inbox("a", None, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        stored
    );
    s.close().await;
}

/// Submissions that share a challenge and arrive together (so they share the
/// writer's batches): exactly one is stored, each other one is refused as
/// spent, and the reports around them with challenges of their own are all
/// stored.
async fn a_challenge_is_spent_once_under_concurrency(db: &Db) {
    const SHARED: usize = 8;
    const ROUNDS: usize = 5;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let mut expected: BTreeSet<ReportId> = BTreeSet::new();
    for round in 0..ROUNDS {
        let shared = ticket(EXPIRES);
        let mut tasks = Vec::new();
        for n in 0..SHARED * 4 {
            // Every fourth report shares the round's ticket; the others each
            // have their own (or none).
            let (r, is_shared) = match n % 4 {
                0 => (
                    report_with("a", k, vec![round as u8; 64], DAY, shared),
                    true,
                ),
                1 => (report("a", k, vec![1; 64], DAY), false),
                _ => (
                    report_with("a", k, vec![2; 64], DAY, ticket(EXPIRES)),
                    false,
                ),
            };
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                (r.id, is_shared, s.insert_report(r).await)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (id, is_shared, outcome) = t.await.unwrap();
            match (is_shared, outcome) {
                (_, Ok(())) => {
                    if is_shared {
                        winners.push(id);
                    }
                    expected.insert(id);
                }
                (true, Err(StorageError::ChallengeSpent)) => {}
                (_, Err(e)) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one report spends the shared challenge"
        );
    }
    let listed = inbox_ids(&*s, "a").await;
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), ROUNDS * (1 + SHARED + 2 * SHARED));
    assert_eq!(db.spent().await.len(), ROUNDS * (1 + 2 * SHARED));
    s.close().await;
}

async fn forget_spent_deletes_what_has_expired(db: &Db) {
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    assert_eq!(
        s.forget_spent(EXPIRES).await.unwrap(),
        0,
        "nothing to forget"
    );
    let tickets: Vec<PowTicket> = [0, 0, 300, 600, 900]
        .iter()
        .map(|d| ticket(EXPIRES + d))
        .collect();
    for t in &tickets {
        s.insert_report(report_with("a", k, vec![1; 64], DAY, *t))
            .await
            .unwrap();
    }
    let left = |from: usize| -> BTreeSet<([u8; 16], i64)> {
        tickets[from..].iter().map(|t| (t.id, t.expires)).collect()
    };
    // Before the earliest expiry: nothing goes.
    assert_eq!(s.forget_spent(EXPIRES - 1).await.unwrap(), 0);
    assert_eq!(db.spent().await, left(0));
    // At an expiry, the ones expiring then (inclusive) and before go.
    assert_eq!(s.forget_spent(EXPIRES).await.unwrap(), 2);
    assert_eq!(db.spent().await, left(2));
    assert_eq!(s.forget_spent(EXPIRES).await.unwrap(), 0, "idempotent");
    assert_eq!(s.forget_spent(EXPIRES + 601).await.unwrap(), 2);
    assert_eq!(db.spent().await, left(4));
    // The reports themselves are untouched.
    assert_eq!(s.inbox("a", None, 100).await.unwrap().len(), tickets.len());
    // A forgotten challenge is no longer known to the storage (the server
    // refuses it as expired before asking).
    s.insert_report(report_with("a", k, vec![2; 64], DAY, tickets[0]))
        .await
        .unwrap();
    // The one still remembered is still refused.
    assert!(matches!(
        s.insert_report(report_with("a", k, vec![3; 64], DAY, tickets[4]))
            .await,
        Err(StorageError::ChallengeSpent)
    ));
    assert_eq!(s.forget_spent(i64::MAX).await.unwrap(), 2);
    assert!(db.spent().await.is_empty());
    s.close().await;
}

async fn pow_key_is_the_first_one_stored(db: &Db) {
    let s = db.open().await;
    // Concurrent first calls, each with its own fresh key: one of them is
    // stored, and every caller gets that one.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let fresh: [u8; 32] = random();
            (fresh, *s.pow_key(fresh).await.unwrap())
        }));
    }
    let mut offered = BTreeSet::new();
    let mut got = BTreeSet::new();
    for t in tasks {
        let (fresh, key) = t.await.unwrap();
        offered.insert(fresh);
        got.insert(key);
    }
    assert_eq!(got.len(), 1, "one key for every caller");
    let key = *got.iter().next().unwrap();
    assert!(offered.contains(&key), "it is one of the keys offered");
    // Later calls, with other fresh keys, get the stored one.
    assert_eq!(*s.pow_key(random()).await.unwrap(), key);
    assert_eq!(*s.pow_key(key).await.unwrap(), key);
    // Another instance on the same database, and a restart, keep it.
    let other = db.open().await;
    assert_eq!(*other.pow_key(random()).await.unwrap(), key);
    other.close().await;
    s.close().await;
    drop(s);
    let s = db.open().await;
    assert_eq!(*s.pow_key(random()).await.unwrap(), key);
    s.close().await;
}

/// Spearman's rank correlation of `(x, y)` pairs (ties get their mean rank).
fn spearman(pairs: &[(f64, f64)]) -> f64 {
    fn ranks(v: Vec<f64>) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for &k in &idx[i..=j] {
                r[k] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    }
    let x = ranks(pairs.iter().map(|p| p.0).collect());
    let y = ranks(pairs.iter().map(|p| p.1).collect());
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// For each measure of [`Db::layout`], the rank correlation between the
/// order `submitted` was submitted in and where those reports sit.
async fn order_correlations(
    db: &Db,
    submitted: &[ReportId],
) -> BTreeMap<&'static str, (usize, f64)> {
    let mut out = BTreeMap::new();
    for (measure, at) in db.layout().await {
        let pairs: Vec<(f64, f64)> = submitted
            .iter()
            .enumerate()
            .filter_map(|(i, id)| at.get(id).map(|&p| (i as f64, p)))
            .collect();
        out.insert(measure, (pairs.len(), spearman(&pairs)));
    }
    out
}

/// The promise is the day, nothing finer: reports submitted one at a time
/// over three days, in a known order, across the size buckets; while a day
/// is open its rows sit in the files in the order they arrived (rank
/// correlation near 1), and once purge has settled it, in no order at all
/// (|rho| < 0.2 for every measure; with ~500 rows a measure a random layout
/// reaches 0.2 about once in 10^4 runs). Nothing is lost, changed or
/// doubled (reports, their fuzz, the spent challenges), the marks record
/// only the days, and a second purge settles nothing again.
async fn settling_a_closed_day_hides_arrival_order(db: &Db) {
    const PER_DAY: usize = 600;
    // Envelopes of the 1, 4, 8 (twice) and 16 KiB buckets: on SQLite all but
    // the first have overflow pages, on PostgreSQL all but the first go to TOAST.
    const SIZES: [usize; 5] = [1091, 4163, 8259, 8259, 16451];
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let days = [DAY, DAY + 1, DAY + 2];
    let mut submitted: BTreeMap<Day, Vec<ReportId>> = BTreeMap::new();
    let mut envelopes: HashMap<ReportId, Vec<u8>> = HashMap::new();
    for day in days {
        let n = if day == DAY + 2 { 50 } else { PER_DAY };
        for i in 0..n {
            let mut envelope = vec![0u8; SIZES[i % SIZES.len()]];
            getrandom::fill(&mut envelope).unwrap();
            // Every third report spends a challenge, as through the API.
            let r = if i % 3 == 0 {
                report_with("a", k, envelope, day, ticket(EXPIRES))
            } else {
                report("a", k, envelope, day)
            };
            submitted.entry(day).or_default().push(r.id);
            envelopes.insert(r.id, r.envelope.clone());
            s.insert_report(r).await.unwrap();
        }
    }
    let (fuzz_before, _) = db.fuzz().await;
    let spent_before = db.spent().await;
    assert_eq!(spent_before.len(), (PER_DAY / 3) * 2 + 50 / 3 + 1);

    // Before: every closed day's large rows follow the submission order.
    // SQLite appends overflow pages, PostgreSQL numbers TOAST values from
    // one counter, in commit order. PostgreSQL's heap (ctid) follows it more
    // loosely: each pooled connection keeps filling its own last page.
    for day in [DAY, DAY + 1] {
        let rho = order_correlations(db, &submitted[&day]).await;
        let ordered: &[(&str, f64)] = match db.backend {
            Backend::Sqlite(_) => &[("overflow page", 0.9)],
            Backend::Postgres(_) => &[("toast chunk id", 0.9), ("ctid", 0.5)],
        };
        for &(measure, at_least) in ordered {
            let (n, r) = rho[measure];
            eprintln!("day {day} before settling: {measure} rho {r:.3} over {n} rows");
            assert!(
                n >= 400 && r > at_least,
                "day {day} before settling: {measure} rho {r:.3} over {n} rows"
            );
        }
    }

    let purged = s.purge(DAY + 2, 365).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            reports: 0,
            slots: 0,
            copies: 0,
            days_settled: 2
        }
    );

    for day in [DAY, DAY + 1] {
        for (measure, (n, r)) in order_correlations(db, &submitted[&day]).await {
            eprintln!("day {day} settled: {measure} rho {r:.3} over {n} rows");
            assert!(n >= 400, "{measure}: only {n} rows measured");
            assert!(
                r.abs() < 0.2,
                "day {day} after settling: {measure} rho {r:.3} over {n} rows"
            );
        }
    }
    // Every report is still there, once, unchanged, with its own fuzz.
    let all = s.inbox("a", None, 10_000).await.unwrap();
    assert_eq!(all.len(), envelopes.len());
    for e in &all {
        assert_eq!(
            s.report("a", e.id).await.unwrap().as_ref(),
            envelopes.get(&e.id)
        );
        let day = submitted
            .iter()
            .find(|(_, ids)| ids.contains(&e.id))
            .unwrap()
            .0;
        assert_eq!(e.day, *day);
    }
    assert_eq!(db.fuzz().await.0, fuzz_before);
    assert_eq!(db.spent().await, spent_before);
    if let Backend::Sqlite(_) = db.backend {
        assert_eq!(
            db.sqlite_count("settle_stage").await,
            0,
            "the stage is empty at rest"
        );
    }
    // Only which days are settled is recorded; settling again does nothing.
    assert_eq!(db.settled_days().await, [DAY, DAY + 1]);
    assert_eq!(s.purge(DAY + 2, 365).await.unwrap(), Purged::default());
    // Once a settled day's last report is purged, its mark goes too.
    let purged = s.purge(DAY + 2 + 8, 0).await.unwrap();
    assert_eq!(purged.reports, envelopes.len() as u64);
    assert!(db.settled_days().await.is_empty());
    s.close().await;
}

/// A settle that fails half-way (here: the stage already holds a row with one
/// of the day's rids, so copying the day into it fails after nothing else
/// has been written) changes nothing: every report is still there, the day
/// is not marked, and once the cause is gone the next purge settles it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_settle_changes_nothing() {
    let db = Db::sqlite().await;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let mut ids = Vec::new();
    for i in 0..50usize {
        let r = report("a", k, vec![i as u8; 5000], DAY);
        ids.push(r.id);
        s.insert_report(r).await.unwrap();
    }
    let stray = {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let (rid,): (i64,) = sqlx::query_as("SELECT rid FROM reports LIMIT 1")
            .fetch_one(&mut c)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO settle_stage (rid, id, force_id, key_id, day, purge_fuzz, envelope) \
             VALUES (?1, x'00', 'a', x'00', 0, 0, x'00')",
        )
        .bind(rid)
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
        rid
    };
    let err = s.purge(DAY + 1, 365).await.unwrap_err().to_string();
    assert!(err.contains("database error"), "{err}");
    assert_eq!(inbox_ids(&*s, "a").await, ids.iter().copied().collect());
    assert!(db.settled_days().await.is_empty());
    {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query("DELETE FROM settle_stage WHERE rid = ?1")
            .bind(stray)
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    assert_eq!(s.purge(DAY + 1, 365).await.unwrap().days_settled, 1);
    assert_eq!(inbox_ids(&*s, "a").await, ids.iter().copied().collect());
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(s.report("a", *id).await.unwrap(), Some(vec![i as u8; 5000]));
    }
    assert_eq!(db.settled_days().await, [DAY]);
    s.close().await;
}

// ---------------------------------------------------------------------------
// SQLite only

/// An 8 KiB envelope no other data contains by accident: a xorshift stream
/// seeded by `tag`.
fn canary(tag: u32) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(tag).wrapping_mul(0xD1B5_4A32_D192_ED03);
    (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// 32-byte pieces (at a few offsets) of each canary, mapped to its tag.
fn pieces(tags: impl IntoIterator<Item = u32>) -> HashMap<[u8; 32], u32> {
    let mut out = HashMap::new();
    for tag in tags {
        let c = canary(tag);
        for o in [0, 1000, 4000, 8192 - 32] {
            out.insert(<[u8; 32]>::try_from(&c[o..o + 32]).unwrap(), tag);
        }
    }
    out
}

/// Tags of the canaries that have at least one piece in `hay`.
fn found(hay: &[u8], pieces: &HashMap<[u8; 32], u32>) -> BTreeSet<u32> {
    // A table of the pieces' first two bytes skips ~99% of positions cheaply
    // (this runs unoptimized over megabytes).
    let mut first_two = vec![false; 1 << 16];
    for p in pieces.keys() {
        first_two[usize::from(u16::from_be_bytes([p[0], p[1]]))] = true;
    }
    hay.windows(32)
        .filter(|w| first_two[usize::from(u16::from_be_bytes([w[0], w[1]]))])
        .filter_map(|w| pieces.get(<&[u8; 32]>::try_from(w).unwrap()))
        .copied()
        .collect()
}

fn read_or_empty(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Enough rows for a multi-level B-tree (so some rows sit in interior pages),
/// inserted concurrently (so they share batches), then purged: none of their
/// bytes may be left in the database file, the WAL or the shared-memory file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_purge_erases_envelope_bytes_from_file_and_wal() {
    let db = Db::sqlite().await;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let old_reports = 0..120u32;
    let old_slots = 1000..1020u32;
    let kept_reports = 2000..2020u32;
    let kept_slots = 3000..3005u32;

    let mut tasks = Vec::new();
    for (tags, day) in [
        (old_reports.clone(), DAY),
        (kept_reports.clone(), DAY + 365),
    ] {
        for tag in tags {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.insert_report(report("a", k, canary(tag), day)).await
            }));
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for (tags, day) in [(old_slots.clone(), DAY), (kept_slots.clone(), DAY + 365)] {
        for tag in tags {
            let stored = s.put_slot(random(), canary(tag), day).await.unwrap();
            assert_eq!(stored, SlotWrite::Stored);
        }
    }

    let path = db.sqlite_path();
    let wal_path = path.with_extension("sqlite-wal");
    let shm_path = path.with_extension("sqlite-shm");
    let purged_tags: BTreeSet<u32> = old_reports.clone().chain(old_slots.clone()).collect();
    let kept_tags: BTreeSet<u32> = kept_reports.clone().chain(kept_slots.clone()).collect();
    let purged_pieces = pieces(purged_tags.iter().copied());
    let kept_pieces = pieces(kept_tags.iter().copied());

    // The search works: before the purge, every canary is on disk.
    let mut before = read_or_empty(&path);
    before.extend(read_or_empty(&wal_path));
    assert_eq!(found(&before, &purged_pieces), purged_tags);
    assert_eq!(found(&before, &kept_pieces), kept_tags);

    let purged = s.purge(DAY + 30 + 8, 30).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            reports: 120,
            slots: 20,
            copies: 0,
            days_settled: 0,
        }
    );

    let main = read_or_empty(&path);
    let wal = read_or_empty(&wal_path);
    let shm = read_or_empty(&shm_path);
    assert_eq!(
        found(&main, &purged_pieces),
        BTreeSet::new(),
        "left in the database file"
    );
    assert_eq!(
        found(&wal, &purged_pieces),
        BTreeSet::new(),
        "left in the WAL"
    );
    assert_eq!(
        found(&shm, &purged_pieces),
        BTreeSet::new(),
        "left in the -shm file"
    );
    assert!(wal.is_empty(), "the WAL is truncated after a purge");
    // What was kept is intact, and now in the main file.
    assert_eq!(found(&main, &kept_pieces), kept_tags);
    let inbox = s.inbox("a", None, 1000).await.unwrap();
    assert_eq!(inbox.len(), kept_reports.len());
    for e in inbox {
        let envelope = s.report("a", e.id).await.unwrap().unwrap();
        assert!(kept_reports.clone().any(|t| canary(t) == envelope));
    }
    s.close().await;
}

#[tokio::test]
async fn sqlite_file_is_private_and_schema_orders_nothing() {
    let db = Db::sqlite().await;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    for _ in 0..20 {
        s.insert_report(report("a", k, vec![7; 100], DAY))
            .await
            .unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.sqlite_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "database file mode {mode:o}");
        let wal = db.sqlite_path().with_extension("sqlite-wal");
        if let Ok(m) = std::fs::metadata(&wal) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "WAL file mode");
        }
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url)
        .unwrap()
        .read_only(true);
    let mut c = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let names: BTreeSet<_> = tables.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "blob_parts",
            "blobs",
            "force_keys",
            "force_signers",
            "force_signing",
            "forces",
            "handler_tokens",
            "key_statements",
            "keylog_entries",
            "keylog_key",
            "pow_key",
            "pow_spent",
            "reply_slots",
            "reporter_copies",
            "reports",
            "settle_stage",
            "settled_days"
        ])
    );
    for (name, sql) in &tables {
        let sql = sql.to_uppercase();
        for banned in ["CURRENT_", "AUTOINCREMENT", "DEFAULT"] {
            assert!(!sql.contains(banned), "{name} uses {banned}");
        }
        if name == "reports" {
            // reports has a rowid, but it is the declared `rid` that the
            // server sets from the random id, never SQLite's next number.
            let words: Vec<&str> = sql.split_whitespace().collect();
            assert!(
                words
                    .windows(4)
                    .any(|w| w == ["RID", "INTEGER", "PRIMARY", "KEY,"]),
                "{sql}"
            );
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT rowid, id FROM reports")
                .fetch_all(&mut c)
                .await
                .unwrap();
            assert_eq!(rows.len(), 20);
            for (rowid, id) in rows {
                let first: [u8; 8] = id[..8].try_into().unwrap();
                assert_eq!(rowid, i64::from_be_bytes(first) & i64::MAX);
            }
            continue;
        }
        if name == "blob_parts" {
            // As reports: a declared `rid` the server sets from its random
            // number generator (migrations/sqlite/0007_blobs.sql).
            let words: Vec<&str> = sql.split_whitespace().collect();
            assert!(
                words
                    .windows(4)
                    .any(|w| w == ["RID", "INTEGER", "PRIMARY", "KEY,"]),
                "{sql}"
            );
            continue;
        }
        assert!(sql.contains("WITHOUT ROWID"), "{name} has a rowid");
        // And there really is no rowid to select.
        let probe = format!("SELECT rowid FROM {name}");
        assert!(
            sqlx::query(sqlx::AssertSqlSafe(probe))
                .fetch_all(&mut c)
                .await
                .is_err(),
            "{name}"
        );
    }
    c.close().await.unwrap();
    s.close().await;
}

// ---------------------------------------------------------------------------
// PostgreSQL only

#[tokio::test]
async fn postgres_schema_orders_nothing() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let s = db.open().await;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // No column defaults at all (so no sequence, identity or timestamp), in our tables.
    let defaults: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' \
         AND (column_default IS NOT NULL OR is_identity = 'YES')",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(defaults.is_empty(), "columns with defaults: {defaults:?}");
    let (sequences,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_class WHERE relkind = 'S'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(sequences, 0, "no sequences");
    c.close().await.unwrap();
    s.close().await;
    db.finish().await;
}

/// The files of the relations that can hold envelopes (reports, reply_slots
/// and their TOAST tables), after a checkpoint so that what the server holds
/// in shared buffers is on disk. Tests run as root on the database's machine,
/// so the files are readable.
async fn pg_envelope_files(c: &mut sqlx::PgConnection) -> Vec<PathBuf> {
    sqlx::query("CHECKPOINT").execute(&mut *c).await.unwrap();
    let (data,): (String,) = sqlx::query_as("SHOW data_directory")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let files: Vec<(String,)> = sqlx::query_as(
        "SELECT pg_relation_filepath(oid) FROM pg_class WHERE oid IN \
         ('reports'::regclass, 'reply_slots'::regclass, \
          (SELECT reltoastrelid FROM pg_class WHERE oid = 'reports'::regclass), \
          (SELECT reltoastrelid FROM pg_class WHERE oid = 'reply_slots'::regclass))",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert_eq!(files.len(), 4);
    files
        .into_iter()
        .map(|(f,)| PathBuf::from(&data).join(f))
        .collect()
}

/// Every segment (`FILE`, `FILE.1`, …) of a relation file, concatenated.
fn read_segments(path: &std::path::Path) -> Vec<u8> {
    let mut out = read_or_empty(path);
    for n in 1.. {
        let seg = PathBuf::from(format!("{}.{n}", path.display()));
        if !seg.exists() {
            break;
        }
        out.extend(read_or_empty(&seg));
    }
    out
}

/// As on SQLite: purged envelopes (reports inserted concurrently, and reply
/// slots) leave no byte in the table files — neither in the files the tables
/// have after the purge nor in the ones they had before (PostgreSQL keeps
/// deleted rows as dead tuples, bytes included, until a VACUUM FULL writes
/// the table afresh). What stays in the WAL is said in the README.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_purge_erases_envelope_bytes_from_table_files() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let old_reports = 0..120u32;
    let old_slots = 1000..1020u32;
    let kept_reports = 2000..2020u32;
    let kept_slots = 3000..3005u32;
    let mut tasks = Vec::new();
    for (tags, day) in [
        (old_reports.clone(), DAY),
        (kept_reports.clone(), DAY + 365),
    ] {
        for tag in tags {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.insert_report(report("a", k, canary(tag), day)).await
            }));
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for (tags, day) in [(old_slots.clone(), DAY), (kept_slots.clone(), DAY + 365)] {
        for tag in tags {
            let stored = s.put_slot(random(), canary(tag), day).await.unwrap();
            assert_eq!(stored, SlotWrite::Stored);
        }
    }
    let purged_tags: BTreeSet<u32> = old_reports.clone().chain(old_slots.clone()).collect();
    let kept_tags: BTreeSet<u32> = kept_reports.clone().chain(kept_slots.clone()).collect();
    let purged_pieces = pieces(purged_tags.iter().copied());
    let kept_pieces = pieces(kept_tags.iter().copied());

    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // The search works: before the purge, every canary is in the table files.
    let files_before = pg_envelope_files(&mut c).await;
    let before: Vec<u8> = files_before.iter().flat_map(|f| read_segments(f)).collect();
    assert_eq!(found(&before, &purged_pieces), purged_tags);
    assert_eq!(found(&before, &kept_pieces), kept_tags);

    let purged = s.purge(DAY + 30 + 8, 30).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            reports: 120,
            slots: 20,
            copies: 0,
            days_settled: 0,
        }
    );

    let files_after = pg_envelope_files(&mut c).await;
    let after: Vec<u8> = files_after.iter().flat_map(|f| read_segments(f)).collect();
    assert_eq!(
        found(&after, &purged_pieces),
        BTreeSet::new(),
        "left in the table files {files_after:?}"
    );
    let old: Vec<u8> = files_before.iter().flat_map(|f| read_segments(f)).collect();
    assert_eq!(
        found(&old, &purged_pieces),
        BTreeSet::new(),
        "left in the files the tables had before the purge {files_before:?}"
    );
    // What was kept is intact.
    assert_eq!(found(&after, &kept_pieces), kept_tags);
    let inbox = s.inbox("a", None, 1000).await.unwrap();
    assert_eq!(inbox.len(), kept_reports.len());
    for e in inbox {
        let envelope = s.report("a", e.id).await.unwrap().unwrap();
        assert!(kept_reports.clone().any(|t| canary(t) == envelope));
    }
    c.close().await.unwrap();
    s.close().await;
    db.finish().await;
}

/// A PostgreSQL that records commit timestamps would date every report to
/// the microsecond: opening storage on it (what `serve` and every admin
/// command do first) fails, and says what is on, why it matters and how to
/// turn it off. Run against a throwaway cluster started with the setting
/// on; the same cluster with it off opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_with_commit_timestamps_on_is_refused() {
    let Some(on) = tokio::task::spawn_blocking(|| {
        crate::support::faults::PgCluster::start_with(&["track_commit_timestamp=on"])
    })
    .await
    .unwrap() else {
        return;
    };
    let err = match storage::open(&on.url()).await {
        Err(e) => e.to_string(),
        Ok(s) => {
            s.close().await;
            panic!("storage opened on a server with track_commit_timestamp = on");
        }
    };
    for says in [
        "track_commit_timestamp = on",
        "microsecond",
        "track_commit_timestamp = off",
        "restart PostgreSQL",
    ] {
        assert!(err.contains(says), "{err}");
    }
    // Refused before anything was written: no migration ran.
    let mut c = sqlx::PgConnection::connect(&on.url()).await.unwrap();
    let (tables,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(tables, 0);
    c.close().await.unwrap();
    tokio::task::spawn_blocking(move || drop(on)).await.unwrap();

    let off = tokio::task::spawn_blocking(|| {
        crate::support::faults::PgCluster::start_with(&["track_commit_timestamp=off"])
    })
    .await
    .unwrap()
    .unwrap();
    let s = storage::open(&off.url()).await.unwrap();
    s.close().await;
    tokio::task::spawn_blocking(move || drop(off))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// open()

#[tokio::test]
async fn open_names_the_accepted_schemes_and_no_secrets() {
    for url in [
        "mysql://user:hunter2@db/quietline",
        "quietline.sqlite",
        "file:///tmp/x",
    ] {
        let err = match storage::open(url).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{url} was accepted"),
        };
        assert!(
            err.contains("sqlite://") && err.contains("postgres://"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
}

// ---------------------------------------------------------------------------
// Throughput (not run by default; numbers depend on the disk)

/// Durable 8 KiB inserts per second through group commit at concurrency 64.
/// Run: `cargo test --release -p quietline --test storage -- --ignored --nocapture throughput`.
async fn insert_throughput(db: &Db, backend: &str) {
    const TASKS: usize = 64;
    const PER_TASK: usize = 300;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..PER_TASK {
                s.insert_report(report("a", k, random::<8192>().to_vec(), DAY))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let n = TASKS * PER_TASK;
    eprintln!(
        "{backend}: {n} durable 8 KiB inserts at concurrency {TASKS} in {secs:.2} s = {:.0}/s",
        n as f64 / secs
    );
    assert_eq!(s.inbox("a", None, u32::MAX).await.unwrap().len(), n);
    s.close().await;
}

/// What settling one closed day costs: 20,000 reports of 8 KiB on one day
/// (inserted at concurrency 64), then the purge that settles it (on
/// PostgreSQL including the VACUUM FULL). Run:
/// `cargo test -p quietline --test storage -- --ignored --nocapture settle_cost`.
async fn settle_cost(db: &Db, backend: &str) {
    const TASKS: usize = 64;
    const REPORTS: usize = 20_000;
    let s = db.open().await;
    let k = force_with_key(&*s, "a").await;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for _ in (t..REPORTS).step_by(TASKS) {
                s.insert_report(report("a", k, random::<8259>().to_vec(), DAY))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let start = std::time::Instant::now();
    let purged = s.purge(DAY + 1, 365).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(purged.days_settled, 1);
    eprintln!("{backend}: settling a day of {REPORTS} reports of 8 KiB took {secs:.1} s");
    assert_eq!(s.inbox("a", None, u32::MAX).await.unwrap().len(), REPORTS);
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand"]
async fn sqlite_settle_cost() {
    settle_cost(&Db::sqlite().await, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand"]
async fn postgres_settle_cost() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    settle_cost(&db, "postgres").await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand with --release"]
async fn sqlite_insert_throughput() {
    insert_throughput(&Db::sqlite().await, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand with --release"]
async fn postgres_insert_throughput() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    insert_throughput(&db, "postgres").await;
    db.finish().await;
}

// ---------------------------------------------------------------------------
// Blobs (attachments, issue 19; crypto/FORMAT.md#blobs-on-the-server)

use quietline::storage::{BLOB_PART_LEN, BlobId, NewBlob, PartWrite, PurgedBlobs};

/// A recognisable pattern for a blob's parts, so a purge can be checked to
/// leave none of it in the files.
const BLOB_CANARY: &[u8; 16] = b"QL-BLOB-CANARY-!";

/// The sealed length of a 4 MiB bucket: four full parts of 16 chunks.
const FOUR_PARTS: u64 = 4 * 1024 * 1024 + 64 * 16;

fn blob_part(sealed_len: u64, n: u32, salt: u8) -> Vec<u8> {
    let len = quietline::storage::blob_part_len(sealed_len, n).unwrap() as usize;
    let mut v: Vec<u8> = BLOB_CANARY.iter().copied().cycle().take(len).collect();
    v[0] = salt;
    v
}

fn new_blob(force: &str, sealed_len: u64, day: Day) -> NewBlob {
    NewBlob {
        id: random(),
        force_id: force.to_owned(),
        sealed_len,
        day,
        pow: None,
    }
}

async fn blobs_upload_in_parts_and_complete_with_the_last(db: &Db) {
    let s = db.open().await;
    force_with_key(s.as_ref(), "north").await;
    force_with_key(s.as_ref(), "south").await;
    let b = new_blob("north", FOUR_PARTS, DAY);
    let id: BlobId = b.id;
    s.create_blob(b).await.unwrap();
    // Parts in any order; none readable until the last.
    for n in [2, 0, 3] {
        assert_eq!(
            s.put_blob_part(id, n, blob_part(FOUR_PARTS, n, 1))
                .await
                .unwrap(),
            PartWrite::Stored { complete: false }
        );
    }
    let st = s.blob_status(id).await.unwrap().unwrap();
    assert_eq!(
        (st.sealed_len, st.received.clone(), st.complete),
        (FOUR_PARTS, vec![0, 2, 3], false)
    );
    assert_eq!(s.blob_len("north", id).await.unwrap(), None, "incomplete");
    assert_eq!(
        s.blob_part("north", id, 0).await.unwrap(),
        None,
        "incomplete"
    );
    // The same part again: acknowledged again, nothing changes; other bytes: refused.
    assert_eq!(
        s.put_blob_part(id, 3, blob_part(FOUR_PARTS, 3, 1))
            .await
            .unwrap(),
        PartWrite::Stored { complete: false }
    );
    assert_eq!(
        s.put_blob_part(id, 3, blob_part(FOUR_PARTS, 3, 2))
            .await
            .unwrap(),
        PartWrite::Conflict
    );
    // Wrong lengths and numbers.
    assert_eq!(
        s.put_blob_part(id, 1, vec![0; 10]).await.unwrap(),
        PartWrite::BadPart {
            expected: Some(BLOB_PART_LEN)
        }
    );
    assert_eq!(
        s.put_blob_part(id, 1, vec![0; BLOB_PART_LEN as usize - 1])
            .await
            .unwrap(),
        PartWrite::BadPart {
            expected: Some(BLOB_PART_LEN)
        }
    );
    assert_eq!(
        s.put_blob_part(id, 4, vec![0; 10]).await.unwrap(),
        PartWrite::BadPart { expected: None }
    );
    assert_eq!(
        s.put_blob_part(random(), 0, vec![0; 10]).await.unwrap(),
        PartWrite::UnknownBlob
    );
    // The last missing part completes it.
    assert_eq!(
        s.put_blob_part(id, 1, blob_part(FOUR_PARTS, 1, 1))
            .await
            .unwrap(),
        PartWrite::Stored { complete: true }
    );
    assert!(s.blob_status(id).await.unwrap().unwrap().complete);
    assert_eq!(s.blob_len("north", id).await.unwrap(), Some(FOUR_PARTS));
    assert_eq!(
        s.blob_len("south", id).await.unwrap(),
        None,
        "another force's blob is not found"
    );
    assert_eq!(s.blob_part("south", id, 0).await.unwrap(), None);
    let mut whole = Vec::new();
    for n in 0..4 {
        whole.extend(s.blob_part("north", id, n).await.unwrap().unwrap());
    }
    assert_eq!(whole.len() as u64, FOUR_PARTS);
    assert_eq!(&whole[BLOB_PART_LEN as usize..][..1], &[1]);
    // A blob for a force that does not exist; a challenge spent twice.
    assert_unknown_force(
        s.create_blob(new_blob("west", FOUR_PARTS, DAY)).await,
        "west",
    );
    let t = ticket(EXPIRES);
    s.create_blob(NewBlob {
        pow: Some(t),
        ..new_blob("north", 65552, DAY)
    })
    .await
    .unwrap();
    let again = NewBlob {
        pow: Some(t),
        ..new_blob("north", 65552, DAY)
    };
    let again_id = again.id;
    assert!(matches!(
        s.create_blob(again).await,
        Err(StorageError::ChallengeSpent)
    ));
    assert_eq!(
        s.blob_status(again_id).await.unwrap(),
        None,
        "nothing stored"
    );
    s.close().await;
}

async fn blob_purge_expires_uploads_and_unreferenced_blobs(db: &Db) {
    let s = db.open().await;
    force_with_key(s.as_ref(), "north").await;
    let sealed = 131_104; // one part (two chunks)
    let mut ids = Vec::new();
    for _ in 0..3 {
        let b = new_blob("north", sealed, DAY);
        ids.push(b.id);
        s.create_blob(b).await.unwrap();
    }
    let [uploading, unfetched, fetched] = [ids[0], ids[1], ids[2]];
    for id in [unfetched, fetched] {
        s.put_blob_part(id, 0, blob_part(sealed, 0, 7))
            .await
            .unwrap();
    }
    s.reference_blob("south", fetched).await.unwrap(); // another force: no effect
    s.reference_blob("north", fetched).await.unwrap();
    let (retention, unreferenced) = (30, 5);
    let purge = |today| {
        let s = s.clone();
        async move { s.purge_blobs(today, retention, unreferenced).await.unwrap() }
    };
    // An upload lives through the day after it began.
    assert_eq!(purge(DAY + 1).await, PurgedBlobs::default());
    assert_eq!(
        purge(DAY + 2).await,
        PurgedBlobs {
            expired_uploads: 1,
            ..Default::default()
        }
    );
    assert_eq!(s.blob_status(uploading).await.unwrap(), None);
    // Unfetched: through day + 5.
    assert_eq!(purge(DAY + 5).await, PurgedBlobs::default());
    assert_eq!(
        purge(DAY + 6).await,
        PurgedBlobs {
            unreferenced: 1,
            ..Default::default()
        }
    );
    assert_eq!(s.blob_len("north", unfetched).await.unwrap(), None);
    // Fetched: through day + retention + its fuzz (0 to 7 days).
    assert_eq!(purge(DAY + retention as Day).await, PurgedBlobs::default());
    assert!(s.blob_len("north", fetched).await.unwrap().is_some());
    assert_eq!(
        purge(DAY + retention as Day + 8).await,
        PurgedBlobs {
            past_retention: 1,
            ..Default::default()
        }
    );
    assert_eq!(s.blob_len("north", fetched).await.unwrap(), None);
    s.close().await;
    if let Backend::Sqlite(_) = &db.backend {
        assert_eq!(db.sqlite_count("blob_parts").await, 0);
        assert_eq!(db.sqlite_count("blobs").await, 0);
        // Deleted from the file and the WAL: secure_delete zeroes the pages and
        // the TRUNCATE checkpoint empties the WAL.
        let path = db.sqlite_path();
        for file in [path.clone(), path.with_extension("sqlite-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                assert!(
                    !bytes.windows(BLOB_CANARY.len()).any(|w| w == BLOB_CANARY),
                    "{} still holds a purged blob's bytes",
                    file.display()
                );
            }
        }
    }
}

async fn blob_parts_survive_a_restart(db: &Db) {
    let s = db.open().await;
    force_with_key(s.as_ref(), "north").await;
    let b = new_blob("north", FOUR_PARTS, DAY);
    let id = b.id;
    s.create_blob(b).await.unwrap();
    for n in [0, 1] {
        s.put_blob_part(id, n, blob_part(FOUR_PARTS, n, 3))
            .await
            .unwrap();
    }
    s.close().await;
    let s = db.open().await;
    let st = s.blob_status(id).await.unwrap().unwrap();
    assert_eq!((st.received, st.complete), (vec![0, 1], false));
    for n in [2, 3] {
        s.put_blob_part(id, n, blob_part(FOUR_PARTS, n, 3))
            .await
            .unwrap();
    }
    assert_eq!(
        s.blob_part("north", id, 1).await.unwrap().unwrap(),
        blob_part(FOUR_PARTS, 1, 3)
    );
    s.close().await;
}
