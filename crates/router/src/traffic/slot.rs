//! One backend as the traffic manager sees it: its in-flight cap and whether it is in rotation,
//! kept in this process or, with Redis configured, shared by every replica. Callers ask the
//! same questions either way; a shared answer that cannot be had is an error, never a local
//! guess (a cap kept per process is no cap once there are two).

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::health::{BackendHealth, HealthView, OutReason};
use super::shared::{Renewal, SharedError, SharedTraffic};
use crate::backend::Backend;

#[derive(Debug)]
pub struct Slot {
    pub backend: Backend,
    pub cap: u32,
    pub queue_wait: Duration,
    /// This process's cap and rotation (used when `shared` is none).
    health: BackendHealth,
    permits: Arc<Semaphore>,
    shared: Option<SharedTraffic>,
}

/// Why no slot was had.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    #[error("every slot stayed busy")]
    Busy,
    #[error(transparent)]
    Shared(#[from] SharedError),
}

/// A held slot; given back when dropped.
#[derive(Debug)]
pub enum SlotPermit {
    Local(#[allow(dead_code)] OwnedSemaphorePermit),
    Shared(Box<SharedSlot>),
}

/// A slot held in Redis, renewed every third of its TTL while held.
#[derive(Debug)]
pub struct SharedSlot {
    shared: SharedTraffic,
    backend: String,
    holder: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for SharedSlot {
    fn drop(&mut self) {
        self.renewer.abort();
        let (shared, backend, holder) = (
            self.shared.clone(),
            std::mem::take(&mut self.backend),
            std::mem::take(&mut self.holder),
        );
        // dropped inside the runtime (a handler or a stream body): released from a task; if
        // that fails the slot lapses at its TTL
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(error) = shared.release(&backend, &holder).await {
                    tracing::warn!(%backend, %error, "a slot could not be released: it lapses at its TTL");
                }
            });
        }
    }
}

impl Slot {
    pub fn new(
        backend: Backend,
        cap: u32,
        queue_wait: Duration,
        health: BackendHealth,
        shared: Option<SharedTraffic>,
    ) -> Self {
        Self {
            backend,
            cap,
            queue_wait,
            health,
            permits: Arc::new(Semaphore::new(cap as usize)),
            shared,
        }
    }

    /// Waits up to `queue_wait` for one of the backend's slots.
    pub async fn acquire(&self) -> Result<SlotPermit, AcquireError> {
        let Some(shared) = &self.shared else {
            return match tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => Ok(SlotPermit::Local(permit)),
                _ => Err(AcquireError::Busy),
            };
        };
        let holder = uuid::Uuid::new_v4().to_string();
        let deadline = tokio::time::Instant::now() + self.queue_wait;
        // polled: a freed slot is seen within the pause (5 → 50 ms), at one round trip a try
        let mut pause = Duration::from_millis(5);
        loop {
            if shared
                .try_acquire(&self.backend.name, self.cap, &holder)
                .await?
            {
                break;
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(AcquireError::Busy);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        let renewer = {
            let (shared, backend, holder) =
                (shared.clone(), self.backend.name.clone(), holder.clone());
            tokio::spawn(async move {
                let every = shared.slot_ttl() / 3;
                loop {
                    tokio::time::sleep(every).await;
                    match shared.renew(&backend, &holder).await {
                        Ok(Renewal::Renewed) => {}
                        Ok(Renewal::Lapsed) => {
                            tracing::warn!(%backend, "a slot lapsed while its call ran (this replica stalled past the slot TTL)");
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(%backend, %error, "a slot could not be renewed")
                        }
                    }
                }
            })
        };
        Ok(SlotPermit::Shared(Box::new(SharedSlot {
            shared: shared.clone(),
            backend: self.backend.name.clone(),
            holder,
            renewer,
        })))
    }

    /// Calls holding a slot now (every replica's, when shared).
    pub async fn in_flight(&self) -> Result<u32, SharedError> {
        match &self.shared {
            Some(shared) => shared.in_flight(&self.backend.name).await,
            None => {
                let free = u32::try_from(self.permits.available_permits()).unwrap_or(u32::MAX);
                Ok(self.cap.saturating_sub(free))
            }
        }
    }

    /// `None` when in rotation; otherwise how long until it is back.
    pub async fn out_for(&self, now: Instant) -> Result<Option<Duration>, SharedError> {
        match &self.shared {
            Some(shared) => Ok(shared.out_for(&self.backend.name).await?.map(|(d, _)| d)),
            None => Ok(self.health.out_for(now)),
        }
    }

    /// In rotation; a shared answer that cannot be had counts as out.
    pub async fn in_rotation(&self, now: Instant) -> bool {
        matches!(self.out_for(now).await, Ok(None))
    }

    pub async fn view(
        &self,
        now: Instant,
        wall: OffsetDateTime,
    ) -> Result<HealthView, SharedError> {
        let Some(shared) = &self.shared else {
            return Ok(self.health.view(now));
        };
        let out = shared.out_for(&self.backend.name).await?;
        Ok(HealthView {
            in_rotation: out.is_none(),
            reason: out.map(|(_, reason)| reason),
            back_in_seconds: out.map(|(d, _)| crate::error::retry_after_secs(d)),
            errors_today: shared.errors_on(&self.backend.name, &day(wall)).await?,
        })
    }

    /// A quota-like error: out of rotation for the configured time or the provider's longer
    /// Retry-After, for every replica. Returns how long.
    pub async fn quota_exhausted(
        &self,
        now: Instant,
        wall: OffsetDateTime,
        provider_retry_after: Option<Duration>,
    ) -> Duration {
        let Some(shared) = &self.shared else {
            return self.health.quota_exhausted(now, wall, provider_retry_after);
        };
        self.error(now, wall).await;
        let quota_disable = self.health.quota_disable();
        let wait = provider_retry_after.map_or(quota_disable, |r| r.max(quota_disable));
        match shared
            .take_out(&self.backend.name, wait, OutReason::Quota)
            .await
        {
            Ok(out) => out,
            Err(error) => {
                tracing::warn!(backend = %self.backend.name, %error, "could not take the backend out for every replica");
                wait
            }
        }
    }

    /// An error the backend is to blame for; past the daily limit it is out until midnight UTC.
    pub async fn error(&self, now: Instant, wall: OffsetDateTime) {
        let Some(shared) = &self.shared else {
            self.health.error(now, wall);
            return;
        };
        let counted = shared.count_error(&self.backend.name, &day(wall)).await;
        let result = match counted {
            Ok(count) if count >= self.health.daily_limit() => shared
                .take_out(
                    &self.backend.name,
                    super::health::until_midnight(wall),
                    OutReason::DailyLimit,
                )
                .await
                .map(|_| ()),
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            tracing::warn!(backend = %self.backend.name, %error, "a backend error was not counted for every replica");
        }
    }
}

fn day(wall: OffsetDateTime) -> String {
    let d = wall.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
