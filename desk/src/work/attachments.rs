//! A case's attachments on the desk (issue 19): the view model of each on
//! the case page, and the two routes that answer a file, both for the
//! signed-in handler only (they sit behind `security::guard` like every
//! work route): `GET /cases/{id}/attachments/{n}` answers an image (JPEG,
//! PNG, WebP, GIF) inline for the page's `<img>`, anything else as a
//! download; `GET /cases/{id}/attachments/{n}/download` is always a
//! download. An image is decrypted in memory by `Desk::attachment`; a
//! download is streamed part by part (`Desk::attachment_reader`, about
//! 1 MiB in memory at a time, the response broken off if a part fails its
//! checks); each writes its audit entry first; `Cache-Control: no-store` and `nosniff`
//! keep it out of the browser's cache and from being read as anything but
//! its type.
//!
//! It owns the headers and the words. It does not decide who may read an
//! attachment or check it (the library does).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quietline_casework::desk::{AttachmentInfo, AttachmentKind, AttachmentState, DeskError};
use quietline_casework::labels::Lang;

use super::{case_id_ok, desk_error};
use crate::AppState;
use crate::security::CurrentHandler;

/// One attachment as the case page shows it.
pub(crate) struct AttachmentView {
    pub number: u32,
    /// "Photo (image/jpeg), 1.5 MB".
    pub title: String,
    /// Shown inline.
    pub image: bool,
    /// Stored whole: it can be shown or downloaded.
    pub stored: bool,
    /// Why not, in words.
    pub problem: Option<String>,
    /// Metadata the reporter's page removed, in English and Welsh.
    pub removed: String,
    /// Metadata the page found and left (the reporter chose to send as is).
    pub left: Option<String>,
    /// Metadata still in the file as read on the desk (`None`: not read).
    pub remaining: Option<String>,
}

fn size(n: u64) -> String {
    match n {
        n if n < 1000 => format!("{n} bytes"),
        n if n < 1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// Kinds in English, then Welsh: "GPS position (lleoliad GPS), …".
fn both(kinds: &[String]) -> String {
    if kinds.is_empty() {
        return "None (dim)".into();
    }
    kinds
        .iter()
        .map(|k| {
            let k = std::slice::from_ref(k);
            format!(
                "{} ({})",
                AttachmentInfo::words(k, Lang::En),
                AttachmentInfo::words(k, Lang::Cy)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn view(a: &AttachmentInfo) -> AttachmentView {
    let what = match a.kind {
        AttachmentKind::Image => "Photo",
        AttachmentKind::Video => "Video",
        AttachmentKind::Document => "File",
    };
    let left: Vec<String> = a
        .metadata_found
        .iter()
        .filter(|k| !a.metadata_removed.contains(k))
        .cloned()
        .collect();
    AttachmentView {
        number: a.number,
        title: format!("{what} ({}), {}", a.media_type, size(a.size)),
        image: a.kind == AttachmentKind::Image && a.is_stored(),
        stored: a.is_stored(),
        problem: match &a.state {
            AttachmentState::Stored => None,
            _ => Some(a.state_words()),
        },
        removed: both(&a.metadata_removed),
        left: (!left.is_empty()).then(|| both(&left)),
        remaining: a.metadata_remaining.as_deref().map(both),
    }
}

async fn answer(
    app: AppState,
    current: CurrentHandler,
    id: String,
    n: String,
    download: bool,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let Ok(number) = n.parse::<u32>() else {
        return desk_error(
            &app,
            &current,
            DeskError::Invalid("an attachment is named by its number, from 1".into()),
        );
    };
    // Images (small, shown on the page) are read whole; any other file is
    // streamed part by part, about 1 MiB in memory at a time.
    let wants_image = !download;
    let (info, body) = if wants_image {
        match app.desk.attachment(&current.handler, &id, number).await {
            Ok(f) => (f.info.clone(), Body::from(f.bytes.to_vec())),
            Err(e) => return desk_error(&app, &current, e),
        }
    } else {
        match app
            .desk
            .attachment_reader(&current.handler, &id, number)
            .await
        {
            Ok((info, reader)) => (info, streamed(reader)),
            Err(e) => return desk_error(&app, &current, e),
        }
    };
    let inline = !download && info.kind == AttachmentKind::Image;
    let name =
        quietline_casework::desk::export::attachment_file_name(&id, number, &info.media_type);
    file_response(body, &info, inline, &name)
}

/// A stored file read part by part as a response body, broken off if a
/// part fails its checks.
fn streamed(reader: quietline_casework::blobs::StoredReader) -> Body {
    let stream = futures_util::stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        match reader.next().await {
            Ok(Some(part)) => Some((Ok(Bytes::from(part.to_vec())), Some(reader))),
            Ok(None) => None,
            // Break the download off: a cut file is not the reporter's.
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    Body::from_stream(stream)
}

/// The response for an attachment: its headers (type, disposition with
/// `name`, `no-store`, `nosniff`) around `body`.
fn file_response(body: Body, info: &AttachmentInfo, inline: bool, name: &str) -> Response {
    // Only the four image types are ever answered as what they say they
    // are; everything else is opaque octets to save.
    let media_type = if inline {
        info.media_type.clone()
    } else {
        "application/octet-stream".to_owned()
    };
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = if inline {
        format!("inline; filename=\"{name}\"")
    } else {
        format!("attachment; filename=\"{name}\"")
    };
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// `GET /cases/{id}/attachments/{n}`: an image inline, anything else as a
/// download. Audited by the library (`attachment`, `n=N`).
pub(crate) async fn show(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    answer(app, current, id, n, false).await
}

/// `GET /cases/{id}/attachments/{n}/download`: always a download.
pub(crate) async fn download(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    answer(app, current, id, n, true).await
}

/// `GET /cases/{id}/intel-report/{r}/attachments/{n}`: attachment `n` as
/// included in the case's sanitised report `r` (issue 19), always a
/// download under the name the report links it by. The library refuses an
/// attachment the report did not choose and audits each download
/// (`attachment`, `n=N download, report R`).
pub(crate) async fn report_download(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path((id, r, n)): Path<(String, String, String)>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let (Ok(report), Ok(number)) = (r.parse::<u32>(), n.parse::<u32>()) else {
        return desk_error(
            &app,
            &current,
            DeskError::Invalid(
                "a report and an attachment are named by their numbers, from 1".into(),
            ),
        );
    };
    match app
        .desk
        .intel_attachment_reader(&current.handler, &id, report, number)
        .await
    {
        Ok((info, reader)) => {
            let name = quietline_casework::desk::export::attachment_file_name(
                &id,
                number,
                &info.media_type,
            );
            file_response(streamed(reader), &info, false, &name)
        }
        Err(e) => desk_error(&app, &current, e),
    }
}
