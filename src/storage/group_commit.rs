//! Group commit for `insert_report`: many concurrent callers, one durable
//! commit per batch.
//!
//! It owns the queue and the writer task that turns queued reports into
//! batches and answers each caller after its batch is committed. It does not
//! know SQL: a backend supplies a [`BatchWriter`] that writes one batch.
//!
//! # Design
//!
//! Callers put `(report, reply)` on a bounded tokio mpsc channel and wait on
//! their oneshot `reply`. One writer task loops:
//!
//! 1. wait for the first queued report;
//! 2. take whatever else is already queued (`try_recv`) up to
//!    [`Limits::max_rows`] rows or [`Limits::max_bytes`] of envelopes;
//! 3. write the batch as one multi-row INSERT in one transaction and commit;
//! 4. only then answer every caller in the batch.
//!
//! There is no timed wait window: under low load a lone report is committed at
//! once, and under high load the batch is simply what queued up while the
//! previous commit was running, so the batch size adapts to the fsync latency.
//!
//! One refinement, measured: step 2 first yields to the tokio scheduler (and
//! yields again, at most [`MAX_YIELDS`] times, while each pass still finds new
//! reports). The callers answered by the previous commit are runnable at that
//! moment and about to queue their next report; without the yield the writer
//! would take the first of them alone and pay a whole fsync for it, and
//! batches alternate between ~1 and ~63 rows. A yield never waits for time,
//! only for tasks that are already runnable, so a lone report is not delayed.
//! At concurrency 64 on the 2-core development machine this took SQLite from
//! ~1,300 to ~2,400 durable 8 KiB inserts/s (batches ~63 rows).
//!
//! Failure: if the batch is refused because some row breaks a constraint (for
//! example a report for an unknown key), the rows are retried one by one in a
//! single transaction, each inside its own savepoint, so a bad row fails only
//! its own caller and the good rows still cost only one commit. Any other
//! failure (I/O, a full disk, a lost connection) answers every caller with
//! that error, and the writer goes on with the next batch: the backend leaves
//! its connection usable after a failed commit (issue 15, item 12), so intake
//! recovers by itself once the cause is gone. The first batch that fails
//! after a success, and the first that succeeds after a failure, are logged.
//!
//! Rows of a batch are written in id order, not queue order: ids are random,
//! so the physical order of a batch says nothing about who arrived first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::common::{purge_fuzz, replicate};
use super::{NewReport, Pressure, Result, StorageError};

/// A report with its retention fuzz, as handed to a [`BatchWriter`].
#[derive(Debug)]
pub(crate) struct PendingReport {
    /// The report.
    pub report: NewReport,
    /// Its random retention fuzz in days (see `common::purge_fuzz`).
    pub purge_fuzz: i16,
}

/// Why a batch was not written.
#[derive(Debug)]
pub(crate) enum BatchError {
    /// Some row broke a constraint: retry the rows one by one.
    RowConstraint,
    /// The batch failed as a whole; every caller gets this error.
    Whole(StorageError),
}

/// What a backend supplies: how to write a batch.
pub(crate) trait BatchWriter: Send + Sync + 'static {
    /// Write all `rows` as one multi-row INSERT in one transaction and commit
    /// durably. Nothing is written on error.
    fn insert_batch<'a>(
        &'a self,
        rows: &'a [PendingReport],
    ) -> impl Future<Output = Result<(), BatchError>> + Send + 'a;

    /// Write `rows` one by one in one transaction, each in its own savepoint,
    /// and commit durably. Returns one outcome per row, in order; `Err` if the
    /// transaction as a whole failed (then nothing was written).
    fn insert_each<'a>(
        &'a self,
        rows: &'a [PendingReport],
    ) -> impl Future<Output = Result<Vec<Result<()>>>> + Send + 'a;
}

/// Batch and queue limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Most rows in one batch.
    pub max_rows: usize,
    /// Most envelope bytes in one batch (a single larger report still goes
    /// alone).
    pub max_bytes: usize,
    /// Queue capacity; callers beyond it wait (back-pressure).
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rows: 512,
            max_bytes: 8 << 20,
            // Two full batches: one being committed, one filling up.
            queue: 1024,
        }
    }
}

type Job = (NewReport, oneshot::Sender<Result<()>>);

/// Most scheduler passes spent filling one batch (see `run`): bounds the
/// extra latency to a few task switches.
const MAX_YIELDS: usize = 8;

/// The queue and its writer task.
pub(crate) struct GroupCommit {
    tx: mpsc::Sender<Job>,
    /// The slowest commit since [`GroupCommit::pressure`] last looked, in µs.
    slowest_micros: Arc<AtomicU64>,
    shutdown: Arc<Notify>,
    // A tokio mutex so that a second `close()` waits for the first to finish.
    task: Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommit {
    /// Start the writer task on the current tokio runtime.
    pub(crate) fn start<W: BatchWriter>(writer: W, limits: Limits) -> Self {
        let (tx, rx) = mpsc::channel(limits.queue.max(1));
        let shutdown = Arc::new(Notify::new());
        let slowest_micros = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(
            writer,
            rx,
            shutdown.clone(),
            limits,
            slowest_micros.clone(),
        ));
        GroupCommit {
            tx,
            slowest_micros,
            shutdown,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queue a report and wait until its batch is durably committed.
    pub(crate) async fn insert(&self, report: NewReport) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((report, reply))
            .await
            .map_err(|_| StorageError::WriterGone)?;
        // A dropped reply (writer task panicked) means the outcome is unknown.
        answer.await.map_err(|_| StorageError::WriterGone)?
    }

    /// Reports queued now and the slowest commit since the previous call.
    pub(crate) fn pressure(&self) -> Pressure {
        Pressure {
            queued: self.tx.max_capacity() - self.tx.capacity(),
            slowest_commit: Duration::from_micros(self.slowest_micros.swap(0, Ordering::Relaxed)),
        }
    }

    /// Refuse new reports, commit everything already queued, and stop the
    /// writer task. Idempotent.
    pub(crate) async fn close(&self) {
        let mut task = self.task.lock().await;
        if let Some(handle) = task.take() {
            // `notify_one` stores a permit if the writer is busy committing,
            // so the signal cannot be missed.
            self.shutdown.notify_one();
            // A panic in the writer has already answered its callers
            // (WriterGone, via dropped replies); nothing more to do.
            let _ = handle.await;
        }
    }
}

/// The writer task.
async fn run<W: BatchWriter>(
    writer: W,
    mut rx: mpsc::Receiver<Job>,
    shutdown: Arc<Notify>,
    limits: Limits,
    slowest_micros: Arc<AtomicU64>,
) {
    let mut carry: Option<Job> = None;
    let mut closing = false;
    let mut health = Health::default();
    loop {
        let first = match carry.take() {
            Some(job) => job,
            None => match next_job(&mut rx, &shutdown, &mut closing).await {
                Some(job) => job,
                None => break,
            },
        };
        let mut bytes = first.0.envelope.len();
        let mut batch = vec![first];
        'fill: for _ in 0..MAX_YIELDS {
            // Let tasks that are ready to run (typically the callers the last
            // commit just answered, now sending their next report) reach the
            // queue before it is drained. A yield only waits for runnable
            // tasks, never for time: when nothing else is ready it returns at
            // once, so a lone report is not delayed.
            tokio::task::yield_now().await;
            let before = batch.len();
            while batch.len() < limits.max_rows {
                match rx.try_recv() {
                    Ok(job) => {
                        let len = job.0.envelope.len();
                        if bytes + len > limits.max_bytes {
                            // Starts the next batch.
                            carry = Some(job);
                            break 'fill;
                        }
                        bytes += len;
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            // Stop as soon as a pass brings nothing new (or the batch is full).
            if batch.len() == before || batch.len() == limits.max_rows {
                break;
            }
        }
        let started = Instant::now();
        health.note(commit(&writer, batch).await);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        slowest_micros.fetch_max(micros, Ordering::Relaxed);
    }
}

/// The next queued job; `None` once shut down and drained (or every sender is
/// gone, i.e. the storage was dropped without `close()`).
async fn next_job(
    rx: &mut mpsc::Receiver<Job>,
    shutdown: &Notify,
    closing: &mut bool,
) -> Option<Job> {
    loop {
        if *closing {
            // After `close()` the channel refuses new sends but still yields
            // what was queued before, then `None`.
            return rx.recv().await;
        }
        tokio::select! {
            // Queued work first, so close() never strands a queued report.
            biased;
            job = rx.recv() => return job,
            () = shutdown.notified() => {
                rx.close();
                *closing = true;
            }
        }
    }
}

/// Whether the writer's commits are failing as a whole, so that the operator
/// sees one line when intake stops storing and one when it stores again
/// (threat-model/availability.md#storage-faults), not one per batch.
#[derive(Default)]
struct Health {
    failing: bool,
}

impl Health {
    /// Note a batch's outcome: `Err` if it failed as a whole.
    fn note(&mut self, outcome: Result<(), StorageError>) {
        match outcome {
            Err(e) if !self.failing => {
                self.failing = true;
                tracing::warn!(error = %e, "report commits are failing; submissions are refused and nothing is stored until a commit succeeds");
            }
            Err(_) => {}
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!("report commits succeed again; intake has recovered");
            }
            Ok(()) => {}
        }
    }
}

/// Write one batch and answer its callers; `Err` (a copy of what they were
/// told) if the batch failed as a whole, `Ok` if it was written (or only some
/// rows were refused, for reasons of their own).
async fn commit<W: BatchWriter>(writer: &W, mut batch: Vec<Job>) -> Result<(), StorageError> {
    batch.sort_unstable_by_key(|job| job.0.id);
    let fuzz = match purge_fuzz(batch.len()) {
        Ok(f) => f,
        Err(e) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(replicate(&e)));
            }
            return Err(e);
        }
    };
    let (rows, replies): (Vec<PendingReport>, Vec<_>) = batch
        .into_iter()
        .zip(fuzz)
        .map(|((report, reply), purge_fuzz)| (PendingReport { report, purge_fuzz }, reply))
        .unzip();

    // A caller that has gone away (request cancelled) gets no answer; its
    // `send` error is ignored on purpose.
    match writer.insert_batch(&rows).await {
        Ok(()) => {
            for reply in replies {
                let _ = reply.send(Ok(()));
            }
            Ok(())
        }
        Err(BatchError::Whole(e)) => {
            for reply in replies {
                let _ = reply.send(Err(replicate(&e)));
            }
            Err(e)
        }
        Err(BatchError::RowConstraint) => match writer.insert_each(&rows).await {
            Ok(outcomes) => {
                debug_assert_eq!(outcomes.len(), replies.len());
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                Ok(())
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(replicate(&e)));
                }
                Err(e)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// A fake backend: records batches; refuses rows whose force id is "bad";
    /// the first batch can be held until the test releases it.
    #[derive(Clone, Default)]
    struct Fake {
        batches: Arc<StdMutex<Vec<Vec<[u8; 16]>>>>,
        stored: Arc<StdMutex<Vec<[u8; 16]>>>,
        /// If set, the first `insert_batch` signals `entered` and waits for `release`.
        gate: Option<(Arc<Notify>, Arc<Notify>)>,
        gate_used: Arc<StdMutex<bool>>,
        fail_whole: bool,
    }

    impl BatchWriter for Fake {
        async fn insert_batch(&self, rows: &[PendingReport]) -> Result<(), BatchError> {
            if let Some((entered, release)) = &self.gate {
                let first = !std::mem::replace(&mut *self.gate_used.lock().unwrap(), true);
                if first {
                    entered.notify_one();
                    release.notified().await;
                }
            }
            assert!(rows.iter().all(|r| (0..=7).contains(&r.purge_fuzz)));
            self.batches
                .lock()
                .unwrap()
                .push(rows.iter().map(|r| r.report.id).collect());
            if self.fail_whole {
                return Err(BatchError::Whole(StorageError::Database(
                    "disk on fire".into(),
                )));
            }
            if rows.iter().any(|r| r.report.force_id == "bad") {
                return Err(BatchError::RowConstraint);
            }
            self.stored
                .lock()
                .unwrap()
                .extend(rows.iter().map(|r| r.report.id));
            Ok(())
        }

        async fn insert_each(&self, rows: &[PendingReport]) -> Result<Vec<Result<()>>> {
            Ok(rows
                .iter()
                .map(|r| {
                    if r.report.force_id == "bad" {
                        Err(StorageError::UnknownForce("bad".into()))
                    } else {
                        self.stored.lock().unwrap().push(r.report.id);
                        Ok(())
                    }
                })
                .collect())
        }
    }

    fn report(n: u8, force: &str, size: usize) -> NewReport {
        NewReport {
            id: [n; 16],
            force_id: force.into(),
            key_id: [0; 8],
            envelope: vec![n; size],
            day: 20_000,
            pow: None,
        }
    }

    /// A group commit whose first batch (one report) is held in the writer
    /// until `release` is notified, with `queued` reports waiting behind it.
    struct Held {
        gc: Arc<GroupCommit>,
        fake: Fake,
        release: Arc<Notify>,
        first: JoinHandle<Result<()>>,
        queued: Vec<JoinHandle<Result<()>>>,
    }

    async fn held(limits: Limits, queued: Vec<NewReport>) -> Held {
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let fake = Fake {
            gate: Some((entered.clone(), release.clone())),
            ..Fake::default()
        };
        let gc = Arc::new(GroupCommit::start(fake.clone(), limits));
        let first = {
            let gc = gc.clone();
            tokio::spawn(async move { gc.insert(report(0, "good", 1)).await })
        };
        entered.notified().await;
        let n = queued.len();
        let queued = queued
            .into_iter()
            .map(|r| {
                let gc = gc.clone();
                tokio::spawn(async move { gc.insert(r).await })
            })
            .collect();
        // Wait until all of them sit in the queue (no sleeps: watch capacity;
        // the writer is held, so nothing leaves the queue meanwhile).
        while gc.tx.capacity() > limits.queue - n {
            tokio::task::yield_now().await;
        }
        Held {
            gc,
            fake,
            release,
            first,
            queued,
        }
    }

    /// Hold the first batch, queue more behind it, release: the queued ones
    /// must form the next batch(es) within the limits.
    async fn batches_with(limits: Limits, queued: Vec<NewReport>) -> (Fake, Vec<Result<()>>) {
        let h = held(limits, queued).await;
        h.release.notify_one();
        h.first.await.unwrap().unwrap();
        let mut out = Vec::new();
        for q in h.queued {
            out.push(q.await.unwrap());
        }
        h.gc.close().await;
        (h.fake, out)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_reports_form_one_batch() {
        let limits = Limits {
            max_rows: 512,
            max_bytes: 1 << 20,
            queue: 64,
        };
        let queued = (1..=20).map(|n| report(n, "good", 10)).collect();
        let (fake, results) = batches_with(limits, queued).await;
        assert!(results.iter().all(|r| r.is_ok()));
        let batches = fake.batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 2, "{batches:?}");
        assert_eq!(batches[0].len(), 1);
        assert_eq!(batches[1].len(), 20);
        // Written in id order.
        assert!(batches[1].windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_respect_row_and_byte_caps() {
        let limits = Limits {
            max_rows: 4,
            max_bytes: 1 << 20,
            queue: 64,
        };
        let queued = (1..=10).map(|n| report(n, "good", 10)).collect();
        let (fake, results) = batches_with(limits, queued).await;
        assert!(results.iter().all(|r| r.is_ok()));
        let sizes: Vec<_> = fake.batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 4, 4, 2]);

        let limits = Limits {
            max_rows: 512,
            max_bytes: 250,
            queue: 64,
        };
        let queued = (1..=5).map(|n| report(n, "good", 100)).collect();
        let (fake, results) = batches_with(limits, queued).await;
        assert!(results.iter().all(|r| r.is_ok()));
        let sizes: Vec<_> = fake.batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 2, 2, 1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_row_fails_only_itself() {
        let limits = Limits {
            max_rows: 512,
            max_bytes: 1 << 20,
            queue: 64,
        };
        let queued = vec![
            report(1, "good", 1),
            report(2, "bad", 1),
            report(3, "good", 1),
        ];
        let (fake, results) = batches_with(limits, queued).await;
        assert!(results[0].is_ok());
        assert!(matches!(&results[1], Err(StorageError::UnknownForce(f)) if f == "bad"));
        assert!(results[2].is_ok());
        let mut stored = fake.stored.lock().unwrap().clone();
        stored.sort();
        assert_eq!(stored, [[0; 16], [1; 16], [3; 16]]);
    }

    #[tokio::test]
    async fn whole_failure_reaches_every_caller() {
        let fake = Fake {
            fail_whole: true,
            ..Fake::default()
        };
        let gc = GroupCommit::start(fake, Limits::default());
        let err = gc.insert(report(1, "good", 1)).await.unwrap_err();
        assert!(matches!(err, StorageError::Database(m) if m == "disk on fire"));
        gc.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_drains_then_refuses() {
        let limits = Limits::default();
        let h = held(limits, (1..=50).map(|n| report(n, "good", 1)).collect()).await;
        // close() while 50 reports are queued behind a held batch: it must
        // commit all of them before it returns.
        let closing = {
            let gc = h.gc.clone();
            tokio::spawn(async move { gc.close().await })
        };
        h.release.notify_one();
        closing.await.unwrap();
        h.first.await.unwrap().unwrap();
        for q in h.queued {
            q.await.unwrap().unwrap();
        }
        assert_eq!(h.fake.stored.lock().unwrap().len(), 51);
        assert!(matches!(
            h.gc.insert(report(99, "good", 1)).await,
            Err(StorageError::WriterGone)
        ));
        h.gc.close().await; // idempotent
    }
}
