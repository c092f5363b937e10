//! Shared helpers: a desk on loopback over a test home ([`TestDesk`]), a
//! cookie-keeping HTTP client ([`Browser`]), and the sign-in steps.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use quietline_casework::accounts;
use quietline_casework::audit::Actor;
use quietline_casework::clock::Clock;
use quietline_casework::desk::{CaseView, Desk, DeskSettings, Handler, Role};
use quietline_casework::home::{Config, Home};
use quietline_casework::keyring;
use quietline_casework::vault::Vault;
use quietline_crypto::keys::Suite;
use quietline_desk::DeskWebSettings;

pub const FORCE_ID: &str = "north-shire";
pub const FORCE_NAME: &str = "North Shire Police";
pub const PASSPHRASE: &str = "test passphrase for the desk's key ring";
/// 2026-12-07T10:00:00Z: a set clock, moved by the tests.
pub const T0: u64 = 1_796_637_600;

/// One key file, made once per test binary (sealing it under the default
/// Argon2id parameters takes a moment), copied into each test's home.
fn key_file() -> &'static (String, Vec<u8>) {
    static KEY: OnceLock<(String, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        keyring::create_key(
            dir.path(),
            FORCE_ID,
            "2026-12-07",
            PASSPHRASE.as_bytes(),
            Suite::X25519,
        )
        .unwrap();
        let (path, info) = keyring::list_keys(dir.path()).unwrap().remove(0);
        (info.key_id.to_string(), std::fs::read(path).unwrap())
    })
}

/// A console home with the force's key ring and config (all mode 0600).
pub fn test_home(root: &std::path::Path) -> Home {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let home = Home::locate(Some(root.to_owned())).unwrap();
    home.create().unwrap();
    let (key_id, bytes) = key_file();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(home.keys_dir().join(format!("{key_id}.key")))
        .unwrap();
    f.write_all(bytes).unwrap();
    home.save_config(&Config {
        force: Some(FORCE_ID.into()),
        force_name: Some(FORCE_NAME.into()),
        current_key: Some(key_id.clone()),
        ..Config::default()
    })
    .unwrap();
    home
}

/// A desk served on 127.0.0.1:0.
pub struct TestDesk {
    pub base: String,
    pub desk: Desk,
    pub vault: Vault,
    pub clock: Clock,
    pub home: Home,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestDesk {
    pub async fn start() -> TestDesk {
        let dir = tempfile::tempdir().unwrap();
        let home = test_home(&dir.path().join("home"));
        let vault = Vault::open(&home.vault_path()).await.unwrap();
        TestDesk::serve(dir, home, vault, Clock::set_at(T0)).await
    }

    /// A desk over the vault at `target` (e.g. a PostgreSQL URL), with its
    /// own home (same key ring) and the given clock.
    pub async fn start_on(target: &str, clock: Clock) -> TestDesk {
        let dir = tempfile::tempdir().unwrap();
        let home = test_home(&dir.path().join("home"));
        let vault = Vault::connect(target).await.unwrap();
        TestDesk::serve(dir, home, vault, clock).await
    }

    async fn serve(dir: tempfile::TempDir, home: Home, vault: Vault, clock: Clock) -> TestDesk {
        let desk = Desk::open(
            home.clone(),
            vault.clone(),
            PASSPHRASE.as_bytes(),
            DeskSettings::default(),
            clock.clone(),
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(quietline_desk::run(
            listener,
            desk.clone(),
            DeskWebSettings::new(FORCE_NAME),
            async move {
                let _ = stopped.await;
            },
        ));
        TestDesk {
            base,
            desk,
            vault,
            clock,
            home,
            dir,
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// Add an account as the CLI does; its one-time password.
    pub async fn add(&self, name: &str, role: Role) -> String {
        accounts::add(
            &self.vault,
            &Actor::current(Some("test".into())),
            name,
            role,
            "2026-12-07",
        )
        .await
        .unwrap()
        .to_string()
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// Stop serving; the desk is then locked.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.served.take() {
            t.await.unwrap().unwrap();
        }
    }

    /// The current TOTP code for `secret`.
    pub fn code(&self, secret: &[u8]) -> String {
        accounts::totp_code(secret, self.clock.now_secs())
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The value of the first `name="csrf"` field.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf").unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body))
    }
    #[track_caller]
    pub fn assert_see_other(&self, to: &str) {
        assert_eq!(self.status, 303, "{self:?}");
        assert_eq!(self.location.as_deref(), Some(to), "{self:?}");
    }
}

/// The value of `<input type="hidden" name=NAME value="…">`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key)? + key.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// An HTTP client that keeps cookies as a browser would (by name), follows
/// no redirect, and records every Set-Cookie.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Resp {
        let req = match self.cookie_header() {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let gone = c.contains("Max-Age=0") || value.is_empty();
            if gone {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap();
        Resp {
            status,
            location,
            headers,
            set_cookies,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// GET `path` and keep the body as bytes (a file, not a page):
    /// (status, headers, body). Sends the cookies; does not change them.
    pub async fn get_bytes(&mut self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = self.cookie_header() {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    /// POST a urlencoded form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// GET `path` for its CSRF token, then POST the form with it.
    pub async fn submit(&mut self, get: &str, post: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.get(get).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(post, &all).await
    }
}

/// The TOTP secret on an enrolment page (spelled out in base32).
pub fn secret_on(html: &str) -> Vec<u8> {
    let key = "id=\"secret\">";
    let start = html.find(key).expect("the secret on the enrolment page") + key.len();
    let end = html[start..].find('<').unwrap() + start;
    let b32: String = html[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    accounts::secret_from_base32(&b32)
        .expect("a base32 secret")
        .to_vec()
}

/// The first sign-in of `name` with its one-time password: a new password,
/// enrolment (the secret read off the page), a code. Returns the secret.
pub async fn first_sign_in(
    td: &TestDesk,
    b: &mut Browser,
    name: &str,
    one_time: &str,
    new: &str,
) -> Vec<u8> {
    let r = b
        .submit(
            "/login",
            "/login",
            &[("account", name), ("password", one_time)],
        )
        .await;
    r.assert_see_other("/login/new-password");
    let r = b
        .submit(
            "/login/new-password",
            "/login/new-password",
            &[("password", new), ("confirm", new)],
        )
        .await;
    r.assert_see_other("/login/enrol");
    let page = b.get("/login/enrol").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "a QR code");
    let secret = secret_on(&page.body);
    let code = td.code(&secret);
    let r = b
        .post("/login/enrol", &[("csrf", &page.csrf()), ("code", &code)])
        .await;
    r.assert_see_other("/");
    // The next code is a later step: the one just used cannot be used again.
    td.clock.advance(30);
    secret
}

/// A sign-in with password and code.
pub async fn sign_in(
    td: &TestDesk,
    b: &mut Browser,
    name: &str,
    password: &str,
    secret: &[u8],
) -> Resp {
    let r = b
        .submit(
            "/login",
            "/login",
            &[("account", name), ("password", password)],
        )
        .await;
    r.assert_see_other("/login/code");
    let code = td.code(secret);
    let r = b
        .submit("/login/code", "/login/code", &[("code", &code)])
        .await;
    td.clock.advance(30);
    r
}

/// A signed-in browser for a new account of `role`; (browser, password, secret).
pub async fn signed_in(td: &TestDesk, name: &str, role: Role) -> (Browser, String, Vec<u8>) {
    let pw = td.add(name, role).await;
    let mut b = td.browser();
    let new = format!("{name} chose a long password");
    let secret = first_sign_in(td, &mut b, name, &pw, &new).await;
    (b, new, secret)
}

/// A caller of the library (not of the web layer) with `role`.
pub fn handler(account: &str, role: Role) -> Handler {
    Handler {
        account: account.into(),
        role,
    }
}

/// The case `id` as the library holds it, read by a supervisor.
pub async fn case_view(desk: &Desk, id: &str) -> CaseView {
    desk.case(&handler("test", Role::Supervisor), id)
        .await
        .unwrap()
}

/// Case `id` graded 2 C P by `by`, through the library.
pub async fn graded(desk: &Desk, by: &Handler, id: &str) {
    desk.grade(
        by,
        id,
        &quietline_casework::intel::grading::GradingInput {
            source: "2".into(),
            assessment: "C".into(),
            handling: "P".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// Case `id` graded 2 C P and given its first sanitised report by `by`,
/// through the library: the report's reference.
pub async fn graded_with_a_report(desk: &Desk, by: &Handler, id: &str) -> String {
    graded(desk, by, id).await;
    desk.write_intel_report(
        by,
        id,
        &quietline_casework::intel::report::ReportDraft {
            title: "Supply of drugs".into(),
            text: "A male is said to supply drugs from a car.".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}
