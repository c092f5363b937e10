//! Restart: every report the server acknowledged (201) is there after the
//! process stops and starts again on the same data — whether it was killed
//! outright (SIGKILL: nothing gets a chance to flush) or asked to stop
//! (SIGTERM) while concurrent clients were still submitting. The proof of
//! work's state survives too: a challenge issued before the restart is
//! accepted after it (the key is in the database), and one spent before it is
//! still refused (the spent record was committed with its report).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::server::try_pow_header;
use crate::support::server::{
    Backend, Process, TestForce, client, fetch_challenge, pow_header, solve,
};
use tokio::sync::Notify;

/// Every id in the force's inbox through the API, as a set.
async fn inbox_ids(base: &str, token: &str) -> BTreeSet<String> {
    crate::support::server::inbox_ids(&client(), base, token)
        .await
        .into_iter()
        .collect()
}

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 20;

use crate::support::server::BinarySetup as Setup;

/// Submit from `CLIENTS` concurrent clients, `PER_CLIENT` reports each, until
/// done or the server goes away; returns the acknowledged ids. `acked` counts
/// acknowledgements as they come, and `progress` is notified on each.
async fn submit_concurrently(
    base: &str,
    force: &Arc<TestForce>,
    acked: Arc<AtomicUsize>,
    progress: Arc<Notify>,
) -> BTreeSet<String> {
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (base, force, acked, progress) = (
            base.to_owned(),
            force.clone(),
            acked.clone(),
            progress.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut ids = Vec::new();
            for i in 0..PER_CLIENT {
                let envelope = force.report(format!("client {c} report {i}").as_bytes());
                // Each submission solves its own challenge; a server that is
                // going away may not hand one out.
                let Some(pow) = try_pow_header(&http, &base, &envelope).await else {
                    break;
                };
                let res = http
                    .post(format!("{base}/api/v1/reports"))
                    .header("content-type", "application/octet-stream")
                    .header("quietline-pow", pow)
                    .body(envelope)
                    .send()
                    .await;
                // Once the server stops, requests fail: what was not
                // acknowledged need not be there.
                let Ok(res) = res else { break };
                if res.status() != 201 {
                    break;
                }
                let Ok(body) = res.bytes().await else { break };
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                ids.push(v["id"].as_str().unwrap().to_owned());
                acked.fetch_add(1, Ordering::SeqCst);
                progress.notify_one();
            }
            ids
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// POST `envelope` with the `Quietline-Pow` value `pow`: status and body.
async fn post(server: &Process, envelope: &[u8], pow: &str) -> (u16, serde_json::Value) {
    let res = client()
        .post(server.url("/api/v1/reports"))
        .header("content-type", "application/octet-stream")
        .header("quietline-pow", pow)
        .body(envelope.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap(),
    )
}

async fn acknowledged_reports_survive(backend: Backend) {
    let Some(setup) = Setup::new(backend).await else {
        return;
    };

    // Round 1: all clients finish, then the process is killed outright.
    let server = setup.serve();
    let acked = Arc::new(AtomicUsize::new(0));
    let mut first =
        submit_concurrently(&server.base, &setup.force, acked, Arc::new(Notify::new())).await;
    assert_eq!(first.len(), CLIENTS * PER_CLIENT);
    // One submission whose request is kept, and a challenge left unused.
    let http = client();
    let kept = setup.force.report(b"sent again after the restart");
    let kept_pow = pow_header(&http, &server.base, &kept).await;
    let (status, body) = post(&server, &kept, &kept_pow).await;
    assert_eq!(status, 201, "{body}");
    first.insert(body["id"].as_str().unwrap().to_owned());
    let (unused, difficulty) = fetch_challenge(&http, &server.base).await;
    server.kill();

    let server = setup.serve();
    let present = inbox_ids(&server.base, &setup.token).await;
    assert_eq!(present, first, "every acknowledged report survives SIGKILL");
    // The restarted server (nothing in its memory) still knows the
    // challenge was spent, and still accepts the one issued before it.
    let (status, body) = post(&server, &kept, &kept_pow).await;
    assert_eq!(
        (status, &body["error"]),
        (429, &"pow_spent".into()),
        "{body}"
    );
    let later = setup
        .force
        .report(b"on a challenge from before the restart");
    let (status, body) = post(&server, &later, &solve(unused, difficulty, &later)).await;
    assert_eq!(status, 201, "{body}");
    first.insert(body["id"].as_str().unwrap().to_owned());
    assert_eq!(inbox_ids(&server.base, &setup.token).await, first);

    // Round 2: SIGTERM arrives while the clients are mid-way.
    let acked = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let clients = {
        let (base, force, acked, progress) = (
            server.base.clone(),
            setup.force.clone(),
            acked.clone(),
            progress.clone(),
        );
        tokio::spawn(async move { submit_concurrently(&base, &force, acked, progress).await })
    };
    let half = CLIENTS * PER_CLIENT / 2;
    tokio::time::timeout(crate::support::server::TIMEOUT, async {
        while acked.load(Ordering::SeqCst) < half {
            progress.notified().await;
        }
    })
    .await
    .expect("clients make progress");
    server.terminate();
    let second = clients.await.unwrap();
    let captured = server.wait();
    assert!(
        captured.success,
        "graceful stop: {}",
        String::from_utf8_lossy(&captured.stderr)
    );
    assert!(second.len() >= half);

    let server = setup.serve();
    let present = inbox_ids(&server.base, &setup.token).await;
    let expected: BTreeSet<String> = first.union(&second).cloned().collect();
    assert!(
        expected.is_subset(&present),
        "{} acknowledged reports missing after a graceful stop",
        expected.difference(&present).count()
    );
    assert!(server.stop().success);
    setup.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_reports_survive_restart() {
    acknowledged_reports_survive(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_reports_survive_restart() {
    acknowledged_reports_survive(Backend::Postgres).await;
}
