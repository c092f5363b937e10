//! Signing in and out, the account page and the custodian's custody page:
//! the routes and their templates (`templates/access/`). Each step calls one
//! `Desk` method of the casework library (`quietline_casework::desk::access`)
//! and renders its answer; the sign-in's state between steps is the
//! library's, keyed by the pending cookie.
//!
//! Routes: `GET|POST /login` (account and password), `GET|POST /login/code`
//! (TOTP), `GET|POST /login/new-password` and `GET|POST /login/enrol` (first
//! sign-in), `POST /sign-out`, `GET /signed-out`, `GET /account`, `POST
//! /account/password`, `GET /custody`, `POST /custody/lock`.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use quietline_casework::accounts::AccountError;
use quietline_casework::desk::access::{AccessError, Next, SignedIn};
use quietline_casework::desk::{DeskError, Role};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::AppState;
use crate::pages::{self, Layout, Section, render};
use crate::security::{
    CurrentHandler, PENDING_COOKIE, PreCsrf, SESSION_COOKIE, cookie, removal, see_other,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(sign_in_page).post(sign_in))
        .route("/login/code", get(code_page).post(code))
        .route(
            "/login/new-password",
            get(new_password_page).post(new_password),
        )
        .route("/login/enrol", get(enrol_page).post(enrol))
        .route("/sign-out", post(sign_out))
        .route("/signed-out", get(signed_out))
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/custody", get(custody_page))
        .route("/custody/lock", post(lock))
}

#[derive(Template)]
#[template(path = "access/sign_in.html")]
struct SignInPage {
    layout: Layout,
    account: String,
}

#[derive(Template)]
#[template(path = "access/code.html")]
struct CodePage {
    layout: Layout,
    account: String,
}

#[derive(Template)]
#[template(path = "access/new_password.html")]
struct NewPasswordPage {
    layout: Layout,
    account: String,
}

#[derive(Template)]
#[template(path = "access/enrol.html")]
struct EnrolPage {
    layout: Layout,
    account: String,
    qr_svg: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "access/account.html")]
struct AccountPage {
    layout: Layout,
    account: String,
    role: Role,
    idle_minutes: u64,
    absolute_hours: u64,
    changed: bool,
}

#[derive(Template)]
#[template(path = "access/custody.html")]
struct CustodyPage {
    layout: Layout,
    force: String,
}

/// Form fields (secrets zeroize on drop; Debug never prints them).
#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: Zeroizing<String>,
}

#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    confirm: Zeroizing<String>,
}

#[derive(Deserialize)]
struct ChangePasswordForm {
    #[serde(default)]
    current: Zeroizing<String>,
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    confirm: Zeroizing<String>,
}

#[derive(Deserialize)]
struct LockForm {
    #[serde(default)]
    confirm: Option<String>,
}

#[derive(Deserialize)]
struct Changed {
    #[serde(default)]
    changed: Option<String>,
}

fn pending_of(jar: &CookieJar) -> Option<String> {
    jar.get(PENDING_COOKIE).map(|c| c.value().to_owned())
}

/// Set the session cookie, drop the pending one, go to the queue.
fn signed_in(jar: CookieJar, signed: SignedIn) -> Response {
    let jar = jar
        .add(cookie(SESSION_COOKIE, signed.token.to_string(), None))
        .add(removal(PENDING_COOKIE));
    (jar, see_other("/")).into_response()
}

/// An error of the library that is not the user's: the locked or the 500 page.
fn failed(app: &AppState, e: AccessError) -> Response {
    match e {
        AccessError::Desk(DeskError::Locked) => pages::locked(app),
        _ => pages::server_error(app),
    }
}

fn sign_in_form(app: &AppState, csrf: &str, account: &str, layout: Option<Layout>) -> Response {
    let layout = layout.unwrap_or_else(|| Layout::public(app, "Sign in", csrf));
    let status = if layout.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &SignInPage {
            layout,
            account: account.to_owned(),
        },
    )
}

async fn sign_in_page(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
) -> Response {
    // Already signed in: straight to the queue.
    if let Some(token) = jar.get(SESSION_COOKIE)
        && app.desk.session(token.value()).await.is_ok()
    {
        return see_other("/");
    }
    sign_in_form(&app, &csrf, "", None)
}

async fn sign_in(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    let account = form.account.trim().to_owned();
    let mut layout = Layout::public(&app, "Sign in", &csrf);
    if account.is_empty() {
        layout = layout.error("account", "Enter your account name");
    }
    if form.password.is_empty() {
        layout = layout.error("password", "Enter your password");
    }
    if !layout.errors.is_empty() {
        return sign_in_form(&app, &csrf, &account, Some(layout));
    }
    match app.desk.sign_in_password(&account, &form.password).await {
        Ok((token, next)) => {
            let to = match next {
                Next::Code => "/login/code",
                Next::NewPassword => "/login/new-password",
                Next::Enrol => "/login/enrol",
            };
            let jar = jar.add(cookie(
                PENDING_COOKIE,
                token.0.to_string(),
                Some(quietline_casework::desk::access::PENDING_SECS),
            ));
            (jar, see_other(to)).into_response()
        }
        Err(e @ (AccessError::WrongPassword | AccessError::Throttled { .. })) => {
            // The error is for the form as a whole (which field was wrong is
            // not said), linked to the first field.
            let layout = layout.error("account", e.to_string());
            sign_in_form(&app, &csrf, &account, Some(layout))
        }
        Err(e) => failed(&app, e),
    }
}

/// The pending sign-in of the cookie at `want` (its token and account), if
/// any; the caller otherwise sends the browser back to `/login`.
async fn stage(app: &AppState, jar: &CookieJar, want: Next) -> Option<(String, String)> {
    let pending = pending_of(jar)?;
    match app.desk.sign_in_next(&pending).await {
        Ok((account, next)) if next == want => Some((pending, account)),
        _ => None,
    }
}

/// Back to the sign-in page with the error (throttled, expired).
fn restart(app: &AppState, csrf: &str, jar: CookieJar, e: AccessError) -> Response {
    let layout = Layout::public(app, "Sign in", csrf).error("account", e.to_string());
    (
        jar.add(removal(PENDING_COOKIE)),
        sign_in_form(app, csrf, "", Some(layout)),
    )
        .into_response()
}

async fn code_page(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
) -> Response {
    match stage(&app, &jar, Next::Code).await {
        Some((_, account)) => render(
            StatusCode::OK,
            &CodePage {
                layout: Layout::public(&app, "Enter your code", &csrf),
                account,
            },
        ),
        None => see_other("/login"),
    }
}

async fn code(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Response {
    let (pending, account) = match stage(&app, &jar, Next::Code).await {
        Some(s) => s,
        None => return see_other("/login"),
    };
    let again = |message: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &CodePage {
                layout: Layout::public(&app, "Enter your code", &csrf).error("code", message),
                account: account.clone(),
            },
        )
    };
    if form.code.trim().is_empty() {
        return again("Enter the 6-digit code from your authenticator app".into());
    }
    match app.desk.sign_in_code(&pending, &form.code).await {
        Ok(signed) => signed_in(jar, signed),
        Err(e @ AccessError::WrongCode) => again(e.to_string()),
        Err(e @ (AccessError::Throttled { .. } | AccessError::PendingExpired)) => {
            restart(&app, &csrf, jar, e)
        }
        Err(e) => failed(&app, e),
    }
}

async fn new_password_page(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
) -> Response {
    match stage(&app, &jar, Next::NewPassword).await {
        Some((_, account)) => render(
            StatusCode::OK,
            &NewPasswordPage {
                layout: Layout::public(&app, "Choose your password", &csrf),
                account,
            },
        ),
        None => see_other("/login"),
    }
}

async fn new_password(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    let (pending, account) = match stage(&app, &jar, Next::NewPassword).await {
        Some(s) => s,
        None => return see_other("/login"),
    };
    let again = |field: &str, message: String| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewPasswordPage {
                layout: Layout::public(&app, "Choose your password", &csrf).error(field, message),
                account: account.clone(),
            },
        )
    };
    match app
        .desk
        .set_first_password(&pending, &form.password, &form.confirm)
        .await
    {
        Ok(_) => see_other("/login/enrol"),
        Err(e @ AccessError::PasswordsDiffer) => again("confirm", e.to_string()),
        Err(
            e @ (AccessError::SamePassword
            | AccessError::Account(AccountError::PasswordLength | AccountError::PasswordIsName)),
        ) => again("password", e.to_string()),
        Err(e @ AccessError::PendingExpired) => restart(&app, &csrf, jar, e),
        Err(e) => failed(&app, e),
    }
}

async fn enrol_form(
    app: &AppState,
    csrf: &str,
    pending: &str,
    account: String,
    error: Option<String>,
) -> Response {
    let code = match app.desk.enrolment(pending).await {
        Ok(c) => c,
        Err(e) => return failed(app, e),
    };
    let mut layout = Layout::public(app, "Set up your authenticator app", csrf);
    let status = match error {
        Some(m) => {
            layout = layout.error("code", m);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    };
    render(
        status,
        &EnrolPage {
            layout,
            account,
            qr_svg: code.qr_svg.to_string(),
            secret: code.secret_spelled.to_string(),
        },
    )
}

async fn enrol_page(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
) -> Response {
    match stage(&app, &jar, Next::Enrol).await {
        Some((pending, account)) => enrol_form(&app, &csrf, &pending, account, None).await,
        None => see_other("/login"),
    }
}

async fn enrol(
    State(app): State<AppState>,
    PreCsrf(csrf): PreCsrf,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Response {
    let (pending, account) = match stage(&app, &jar, Next::Enrol).await {
        Some(s) => s,
        None => return see_other("/login"),
    };
    if form.code.trim().is_empty() {
        return enrol_form(
            &app,
            &csrf,
            &pending,
            account,
            Some("Enter the 6-digit code the app shows".into()),
        )
        .await;
    }
    match app.desk.confirm_enrolment(&pending, &form.code).await {
        Ok(signed) => signed_in(jar, signed),
        Err(e @ AccessError::WrongCode) => {
            enrol_form(&app, &csrf, &pending, account, Some(e.to_string())).await
        }
        Err(e @ AccessError::PendingExpired) => restart(&app, &csrf, jar, e),
        Err(e) => failed(&app, e),
    }
}

async fn sign_out(State(app): State<AppState>, jar: CookieJar) -> Response {
    if let Some(token) = jar.get(SESSION_COOKIE)
        && let Err(e) = app.desk.sign_out(token.value()).await
    {
        return failed(&app, e);
    }
    (jar.add(removal(SESSION_COOKIE)), see_other("/signed-out")).into_response()
}

async fn signed_out(State(app): State<AppState>, PreCsrf(csrf): PreCsrf) -> Response {
    pages::message(
        StatusCode::OK,
        Layout::public(&app, "Signed out", &csrf),
        "You have signed out",
        &["Close the browser window if you are on a shared computer."],
        Some(("/login", "Sign in again")),
    )
}

fn account_view(
    app: &AppState,
    current: &CurrentHandler,
    layout: Layout,
    changed: bool,
) -> Response {
    let status = if layout.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let s = app.desk.settings();
    render(
        status,
        &AccountPage {
            layout,
            account: current.handler.account.clone(),
            role: current.handler.role,
            idle_minutes: s.idle_timeout.as_secs() / 60,
            absolute_hours: s.absolute_timeout.as_secs() / 3600,
            changed,
        },
    )
}

async fn account_page(
    State(app): State<AppState>,
    current: CurrentHandler,
    Query(q): Query<Changed>,
) -> Response {
    let layout = Layout::signed_in(&app, &current, "Your account", Section::Account);
    account_view(&app, &current, layout, q.changed.is_some())
}

async fn change_password(
    State(app): State<AppState>,
    current: CurrentHandler,
    jar: CookieJar,
    Form(form): Form<ChangePasswordForm>,
) -> Response {
    let layout = Layout::signed_in(&app, &current, "Your account", Section::Account);
    let again = |field: &str, message: String| {
        account_view(&app, &current, layout.clone().error(field, message), false)
    };
    match app
        .desk
        .change_password(
            &current.handler,
            &form.current,
            &form.password,
            &form.confirm,
        )
        .await
    {
        Ok(signed) => {
            let jar = jar.add(cookie(SESSION_COOKIE, signed.token.to_string(), None));
            (jar, see_other("/account?changed=1")).into_response()
        }
        Err(e @ (AccessError::WrongCurrentPassword | AccessError::Throttled { .. })) => {
            again("current", e.to_string())
        }
        Err(e @ AccessError::PasswordsDiffer) => again("confirm", e.to_string()),
        Err(
            e @ (AccessError::SamePassword
            | AccessError::Account(AccountError::PasswordLength | AccountError::PasswordIsName)),
        ) => again("password", e.to_string()),
        Err(AccessError::NoSession) => see_other("/login"),
        Err(e) => failed(&app, e),
    }
}

fn custody_view(app: &AppState, layout: Layout) -> Response {
    let status = if layout.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &CustodyPage {
            layout,
            force: app.settings.force_name.clone(),
        },
    )
}

async fn custody_page(State(app): State<AppState>, current: CurrentHandler) -> Response {
    if current.handler.role != Role::Custodian {
        return pages::forbidden(&app, &current, "Only a custodian can see key custody.");
    }
    let layout = Layout::signed_in(&app, &current, "Key custody", Section::Custody);
    custody_view(&app, layout)
}

async fn lock(
    State(app): State<AppState>,
    current: CurrentHandler,
    Form(form): Form<LockForm>,
) -> Response {
    if current.handler.role != Role::Custodian {
        return pages::forbidden(&app, &current, "Only a custodian can lock the desk.");
    }
    if form.confirm.as_deref() != Some("yes") {
        let layout = Layout::signed_in(&app, &current, "Key custody", Section::Custody).error(
            "confirm",
            "Tick the box to confirm you want to lock the desk",
        );
        return custody_view(&app, layout);
    }
    match app.desk.lock_desk(&current.handler).await {
        Ok(()) => pages::locked(&app),
        Err(e) => failed(&app, AccessError::Desk(e)),
    }
}
