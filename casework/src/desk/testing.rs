//! Helpers of the desk's unit tests (compiled for tests only): a console
//! home with a real key file (test KDF) and a SQLite vault, reporters that
//! seal real envelopes with `quietline_crypto`, and storing them as a pull
//! would.

use quietline_crypto::keyfile::{KdfParams, seal_key_file};
use quietline_crypto::keys::{PrivateKey, PublicKey, generate_keypair};
use quietline_crypto::payload::{
    Common, FollowUp, Known, Payload, Person, ReplyMaterial, Report, ReportBody, Vehicle, When,
};
use quietline_crypto::reply_code::{ReplyCode, ReplySecrets};
use sha2::Digest;

use super::{Desk, DeskSettings, Handler, Role};
use crate::clock::Clock;
use crate::home::{Config, Home};
use crate::vault::{NewEnvelope, Vault};

pub const PASSPHRASE: &[u8] = b"correct horse battery staple";

pub fn rng() -> impl rand_core::CryptoRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

pub fn handler(name: &str) -> Handler {
    Handler {
        account: name.into(),
        role: Role::Handler,
    }
}

pub fn supervisor(name: &str) -> Handler {
    Handler {
        account: name.into(),
        role: Role::Supervisor,
    }
}

/// A console home with one key.
pub struct TestHome {
    /// Kept for its lifetime: the home is inside it.
    _dir: tempfile::TempDir,
    pub home: Home,
    pub force: String,
    pub pk: PublicKey,
}

impl TestHome {
    pub fn new(force: &str) -> TestHome {
        let (sk, _) = generate_keypair(&mut rng());
        TestHome::with_key(force, &sk)
    }

    pub fn with_key(force: &str, sk: &PrivateKey) -> TestHome {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::locate(Some(dir.path().join("home"))).unwrap();
        home.create().unwrap();
        let text = seal_key_file(
            &mut rng(),
            sk,
            force,
            "2026-12-01",
            PASSPHRASE,
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        let pk = sk.public_key();
        crate::keystore::write_key_file(
            &crate::keyring::key_path(&home.keys_dir(), pk.key_id()),
            &text,
        )
        .unwrap();
        home.save_config(&Config {
            force: Some(force.into()),
            current_key: Some(pk.key_id().to_hex()),
            force_name: Some("North Constabulary".into()),
            ..Config::default()
        })
        .unwrap();
        TestHome {
            _dir: dir,
            home,
            force: force.into(),
            pk,
        }
    }

    pub async fn vault(&self) -> Vault {
        Vault::open(&self.home.vault_path()).await.unwrap()
    }

    pub async fn desk(&self) -> Desk {
        self.desk_on(self.vault().await).await
    }

    pub async fn desk_on(&self, vault: Vault) -> Desk {
        Desk::open(
            self.home.clone(),
            vault,
            PASSPHRASE,
            DeskSettings::default(),
            Clock::set_at(1_796_601_599),
        )
        .await
        .unwrap()
    }

    /// Seal `payload` to this force and store it as a pull would; returns its id.
    pub async fn store(&self, vault: &Vault, day: &str, payload: &Payload) -> String {
        let bytes = quietline_crypto::seal::seal_report(
            &mut rng(),
            &self.force,
            &self.pk,
            &payload.to_json(),
        )
        .unwrap();
        store_bytes(vault, day, bytes, &self.pk).await
    }
}

/// Store envelope bytes under a fresh random id (no flag: the index opens it).
pub async fn store_bytes(vault: &Vault, day: &str, bytes: Vec<u8>, pk: &PublicKey) -> String {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).unwrap();
    let id = hex::encode(id);
    let flag = match quietline_crypto::envelope::parse(&bytes) {
        Ok(_) => None,
        Err(_) => Some(("malformed".to_owned(), "not a valid envelope".to_owned())),
    };
    vault
        .insert_envelopes(&[NewEnvelope {
            id: id.clone(),
            day: day.into(),
            key_id: pk.key_id().to_hex(),
            sha256: sha2::Sha256::digest(&bytes).into(),
            envelope: bytes,
            flag,
        }])
        .await
        .unwrap();
    id
}

/// The reporter's side of one conversation.
pub struct Reporter {
    pub secrets: ReplySecrets,
}

impl Default for Reporter {
    fn default() -> Self {
        Reporter::new()
    }
}

impl Reporter {
    pub fn new() -> Reporter {
        Reporter {
            secrets: ReplyCode::generate(&mut rng()).derive(),
        }
    }

    fn common(lang: &str) -> Common {
        Common {
            v: 1,
            sent_at: "2026-11-27T19:45:00Z".into(),
            lang: lang.into(),
        }
    }

    /// A report with a person and a vehicle.
    pub fn report(&self, details: &str, person: &str, registration: &str) -> Payload {
        self.report_in("en", details, person, registration)
    }

    pub fn report_in(
        &self,
        lang: &str,
        details: &str,
        person: &str,
        registration: &str,
    ) -> Payload {
        Payload::Report(Report {
            common: Self::common(lang),
            report: ReportBody {
                category: "drugs".into(),
                details: details.into(),
                location: Known {
                    known: true,
                    description: "Behind the Co-op on Mill Lane".into(),
                },
                when: When {
                    known: true,
                    date: Some("2026-11-20".into()),
                    time: Some("22:30".into()),
                    ongoing: true,
                    ongoing_unknown: false,
                    description: "most Friday nights".into(),
                },
                people: vec![Person {
                    name: person.into(),
                    description: "about 30, red cap".into(),
                }],
                vehicles: vec![Vehicle {
                    registration: registration.into(),
                    make_model: "Ford Focus".into(),
                    colour: "silver".into(),
                    description: "dent in the rear door".into(),
                }],
                how_known: "saw".into(),
                how_known_details: "from my window".into(),
            },
            attachments: vec![],
            reply: ReplyMaterial::from_secrets(&self.secrets),
            transfer: None,
        })
    }

    /// A follow-up whose reporter's clock reads a week before the report.
    pub fn follow_up(&self, message: &str) -> Payload {
        Payload::FollowUp(FollowUp {
            common: Common {
                v: 1,
                sent_at: "2026-11-20T08:00:00Z".into(),
                lang: "en".into(),
            },
            message: message.into(),
            attachments: vec![],
            reply: ReplyMaterial::from_secrets(&self.secrets),
            transfer: None,
        })
    }
}

/// A real intake server (SQLite), a desk home holding its force's key and
/// logged in to it, and one report (in Welsh) submitted by a reporter.
pub async fn served() -> (
    quietline_testkit::server::TestServer,
    TestHome,
    Reporter,
    String,
) {
    use quietline_testkit::server::{Backend, TestServer};
    let server = TestServer::start(Backend::Sqlite).await.unwrap();
    let force = server.add_force("north", "North Constabulary").await;
    let token = server.token("north", "desk").await;
    let t = TestHome::with_key("north", &force.private_key);
    let mut config = t.home.load_config().unwrap();
    config.server = Some(server.base.clone());
    config.token = Some(token);
    t.home.save_config(&config).unwrap();
    let r = Reporter::new();
    let id = server
        .submit(
            force.report(
                &r.report_in("cy", "dealing", "Tall Dave", "AB12 CDE")
                    .to_json(),
            ),
        )
        .await;
    (server, t, r, id)
}

/// Two handles on one vault of `backend` for the home `t`: its SQLite file
/// twice, or a fresh PostgreSQL database twice (`None`: PostgreSQL skipped
/// outside CI). The database guard is returned to be dropped last.
pub async fn shared_vaults(
    t: &TestHome,
    backend: quietline_testkit::server::Backend,
) -> Option<(Vault, Vault, Option<quietline_testkit::pg::PgTestDb>)> {
    use quietline_testkit::server::Backend;
    match backend {
        Backend::Sqlite => Some((t.vault().await, t.vault().await, None)),
        Backend::Postgres => {
            let pg = quietline_testkit::pg::fresh_database().await?;
            let a = Vault::connect(pg.url()).await.unwrap();
            let b = Vault::connect(pg.url()).await.unwrap();
            Some((a, b, Some(pg)))
        }
    }
}
